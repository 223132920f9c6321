/* The recurrences, for one REAL type: included by recurrence.c once per dtype.
 *
 * Row-major products through the column-major BLAS: C = A B is C^T = B^T A^T.
 * MM_NN: C (m, n) = A (m, k) B (k, n).
 * Masks are (T, B) bytes or NULL; a pad row carries its states unchanged and gets no
 * gradient, as in the NumPy core. The element-wise work of a step is one pass per
 * batch row, in a function whose pointers are restrict parameters: that is what lets
 * gcc vectorise it (restrict locals derived from one buffer do not).
 *
 * Each time loop (the _rows functions) runs a team_span: the rows b0 .. b0 + nb - 1 of
 * a batch of B, and of each row the units u0 .. u0 + nu - 1 of each gate. The rows never
 * meet (h_{t-1} W and dL/da_t W^T are products row by row, the gate pass is
 * element-wise, and every scratch buffer is (B, ...)), so parts given disjoint rows run
 * at once, share every buffer and never wait for each other. Parts given disjoint
 * units of every row compute their columns of each product and their units of the
 * gate pass, and meet at team_sync once a step, since the next product needs every
 * unit; for row parts team_sync does nothing. The exported kernel takes the number of
 * parts first and runs them on the team (team.h); 1 runs the whole batch here.
 */
#define MM_NN(m, n, k, A, lda, B_, ldb, beta, C, ldc) \
    GEMM('N', 'N', n, m, k, B_, ldb, A, lda, beta, C, ldc)
#define SIGMOID(x) ((REAL)0.5 * TANH((REAL)0.5 * (x)) + (REAL)0.5)
#define REAL_AT(mask, t, B, b) ((!(mask) || (mask)[(long)(t) * (B) + (b)]) ? 1 : 0)

/* ---- tanh RNN ---------------------------------------------------------------- */

static inline void SUFFIX(rnn_row)(int n, REAL *restrict h, const REAL *restrict hw) {
    for (int j = 0; j < n; j++) h[j] = TANH(h[j] + hw[j]);
}

/* Every cell's BPTT row starts alike: dL/dh_t gains the loss's own dH_t (dHt NULL: no
 * output at this step), and dh_out (NULL: not asked) records the total, 0 at a pad. */
static inline void SUFFIX(take_dh)(int d, REAL m, REAL *restrict dh, const REAL *restrict dHt,
                                   REAL *restrict dh_out) {
    if (dHt)
        for (int j = 0; j < d; j++) dh[j] += dHt[j];
    if (dh_out)
        for (int j = 0; j < d; j++) dh_out[j] = dh[j] * m;
}

static inline void SUFFIX(rnn_grad_row)(int d, REAL m, REAL *restrict dh, const REAL *restrict dHt,
                                        const REAL *restrict h, REAL *restrict da,
                                        REAL *restrict dh_out) {
    SUFFIX(take_dh)(d, m, dh, dHt, dh_out);
    for (int j = 0; j < d; j++) da[j] = dh[j] * (1 - h[j] * h[j]) * m;
}

/* h_t = tanh(xw_t + h_{t-1} W): H (T+1, B, d) holds h_0 and xw on entry. hw: (B, d). */
static CLONES void SUFFIX(rnn_forward_rows)(int T, int B, int d, const team_span *sp, REAL *H,
                                            const REAL *W, const uint8_t *mask, REAL *hw) {
    const int b0 = sp->b0, nb = sp->nb, u0 = sp->u0, nu = sp->nu;
    const long step = (long)B * d, r0 = (long)b0 * d;
    for (int t = 0; t < T; t++) {
        const REAL *hp = H + t * step;
        REAL *hn = H + (t + 1) * step;
        MM_NN(nb, nu, d, hp + r0, d, W + u0, d, 0, hw + r0 + u0, d);
        if (nu == d)
            SUFFIX(rnn_row)(nb * d, hn + r0, hw + r0);
        else
            for (int b = b0; b < b0 + nb; b++)
                SUFFIX(rnn_row)(nu, hn + (long)b * d + u0, hw + (long)b * d + u0);
        for (int b = b0; b < b0 + nb; b++)
            if (!REAL_AT(mask, t, B, b))
                memcpy(hn + (long)b * d + u0, hp + (long)b * d + u0, nu * sizeof(REAL));
        team_sync(sp);  /* every unit of h_t, before the next step's product */
    }
}

/* BPTT of rnn_forward: dA (T, B, d) out; dh (B, d) holds dL/dh_T on entry, dL/dh_0 on
 * return; dH (T, B, d) or NULL; dh_out (T, B, d) or NULL records dL/dh_t; dh_prev (B, d).
 * WT is W^T, contiguous: BLAS multiplies by a transposed operand more slowly. */
static CLONES void SUFFIX(rnn_backward_rows)(int T, int B, int d, const team_span *sp,
                                             const REAL *dH, REAL *dh, const REAL *H,
                                             const REAL *WT, const uint8_t *mask, REAL *dA,
                                             REAL *dh_prev, REAL *dh_out) {
    const int b0 = sp->b0, nb = sp->nb, u0 = sp->u0, nu = sp->nu;
    const long step = (long)B * d, r0 = (long)b0 * d;
    for (int t = T - 1; t >= 0; t--) {
        for (int b = b0; b < b0 + nb; b++) {
            const long o = t * step + (long)b * d + u0;
            SUFFIX(rnn_grad_row)(nu, REAL_AT(mask, t, B, b), dh + (long)b * d + u0,
                                 dH ? dH + o : 0, H + step + o, dA + o,
                                 dh_out ? dh_out + o : 0);
        }
        team_sync(sp);  /* every unit of dL/da_t, before the product */
        /* dL/dh_{t-1} through W */
        MM_NN(nb, nu, d, dA + t * step + r0, d, WT + u0, d, 0, dh_prev + r0 + u0, d);
        for (int b = b0; b < b0 + nb; b++)  /* a pad passes dL/dh_t on unchanged */
            if (REAL_AT(mask, t, B, b))
                memcpy(dh + (long)b * d + u0, dh_prev + (long)b * d + u0, nu * sizeof(REAL));
    }
}

/* A unit part's columns of the gates' W_k ((d, d) at W + k * wgap, rows ldw apart) side
 * by side in wp, (d, g nu): its product of a step is then one GEMM, (B, d) x (d, g nu),
 * into its own block of hw, (B, g nu) from hw + g B u0, each row's gates nu apart. */
static void SUFFIX(unit_columns)(int d, int g, int u0, int nu, const REAL *W, int ldw,
                                 long wgap, REAL *wp) {
    for (long i = 0; i < d; i++)
        for (int k = 0; k < g; k++)
            memcpy(wp + i * g * nu + (long)k * nu, W + i * ldw + k * wgap + u0,
                   nu * sizeof(REAL));
}

/* ---- LSTM -------------------------------------------------------------------- */

/* w: h_{t-1} W_k of this row for the gates k = i, f, g, o, `gap` apart. */
static inline void SUFFIX(lstm_row)(int d, REAL *restrict gi, REAL *restrict gf,
                                    REAL *restrict gg, REAL *restrict go,
                                    const REAL *restrict w, long gap, const REAL *restrict cp,
                                    REAL *restrict cn, REAL *restrict hn, REAL *restrict tc) {
    for (int j = 0; j < d; j++) {
        const REAL i = SIGMOID(gi[j] + w[j]);
        const REAL f = SIGMOID(gf[j] + w[gap + j]);
        const REAL g = TANH(gg[j] + w[2 * gap + j]);
        const REAL o = SIGMOID(go[j] + w[3 * gap + j]);
        const REAL c = f * cp[j] + i * g;
        const REAL tcj = TANH(c);
        gi[j] = i, gf[j] = f, gg[j] = g, go[j] = o;
        cn[j] = c, tc[j] = tcj, hn[j] = o * tcj;
    }
}

static inline void SUFFIX(lstm_grad_row)(int d, REAL m, const REAL *restrict gi,
                                         const REAL *restrict gf, const REAL *restrict gg,
                                         const REAL *restrict go, const REAL *restrict tc,
                                         const REAL *restrict cp, REAL *restrict ai,
                                         REAL *restrict af, REAL *restrict ag,
                                         REAL *restrict ao, REAL *restrict dh,
                                         REAL *restrict dc,
                                         REAL *restrict dc_out) {
    for (int j = 0; j < d; j++) {
        const REAL i = gi[j], f = gf[j], g = gg[j], o = go[j], tcj = tc[j];
        const REAL dct = dh[j] * o * (1 - tcj * tcj) + dc[j];  /* dL/dc_t, both paths */
        const REAL vi = dct * g * i * (1 - i) * m;
        const REAL vf = dct * cp[j] * f * (1 - f) * m;
        const REAL vg = dct * i * (1 - g * g) * m;
        const REAL vo = dh[j] * tcj * o * (1 - o) * m;
        ai[j] = vi, af[j] = vf, ag[j] = vg, ao[j] = vo;
        dc_out[j] = dct * m;
        dc[j] = m * dct * f + (1 - m) * dc[j];  /* through the forget gate; a pad passes it on */
    }
}

/* The LSTM (gates i, f, g, o): G (4, T, B, d) holds xw + b on entry, the gates on
 * return; H, C (T+1, B, d) hold h_0, c_0; TC (T, B, d) gets tanh(c_t). The gates' W_k
 * are (d, d) at W + k * wgap, rows ldw apart: either W (d, 4d) itself (wgap d, ldw 4d),
 * and then h_{t-1} W is one product into hw (B, 4d), each row's gates side by side; or
 * a contiguous copy of each W_k (wgap d * d, ldw d), one product per gate into hw
 * (4, B, d). On one thread the products per gate run up to 20% faster; on two, BLAS
 * splits one product of B 32, d 128 over both threads and not the four smaller ones. */
static CLONES void SUFFIX(lstm_forward_rows)(int T, int B, int d, const team_span *sp,
                                             REAL *G, REAL *H, REAL *C, REAL *TC,
                                             const REAL *W, int ldw, long wgap,
                                             const uint8_t *mask, REAL *hw, REAL *wp) {
    const int b0 = sp->b0, nb = sp->nb, u0 = sp->u0, nu = sp->nu;
    const long step = (long)B * d, gate = (long)T * step, r0 = (long)b0 * d;
    const int whole = wgap == d && ldw == 4 * d;  /* W in place: one product */
    const int units = nu < d;  /* a unit part: its columns of W in wp, its block of hw */
    const long row = units ? 4L * nu : whole ? 4L * d : d;  /* in hw */
    const long gap = units ? nu : whole ? d : step;
    if (units) {
        wp += 4L * d * u0;
        SUFFIX(unit_columns)(d, 4, u0, nu, W, ldw, wgap, wp);
        hw += 4L * B * u0 - u0;  /* row b's gates of unit u0 + j at hw + b row + u0 + j */
    }
    for (int t = 0; t < T; t++) {
        if (units)
            MM_NN(nb, 4 * nu, d, H + t * step, d, wp, 4 * nu, 0, hw + u0, 4 * nu);
        else if (whole)
            MM_NN(nb, 4 * d, d, H + t * step + r0, d, W, ldw, 0, hw + 4 * r0, 4 * d);
        else
            for (int k = 0; k < 4; k++)  /* h_{t-1} W_k */
                MM_NN(nb, d, d, H + t * step + r0, d, W + k * wgap, ldw, 0,
                      hw + k * step + r0, d);
        for (int b = b0; b < b0 + nb; b++) {
            const long o = t * step + (long)b * d + u0;
            SUFFIX(lstm_row)(nu, G + o, G + gate + o, G + 2 * gate + o, G + 3 * gate + o,
                             hw + b * row + u0, gap, C + o, C + step + o, H + step + o, TC + o);
            if (!REAL_AT(mask, t, B, b)) {
                memcpy(C + step + o, C + o, nu * sizeof(REAL));
                memcpy(H + step + o, H + o, nu * sizeof(REAL));
            }
        }
        team_sync(sp);  /* every unit of h_t, before the next step's product */
    }
}

/* BPTT of lstm_forward: dA out, gate-major (4, T, B, d), or with `side` the gates side
 * by side (T, B, 4d), each row's four dL/da_k one after the other; dh, dc (B, d) hold
 * dL/dh_T, dL/dc_T on entry and dL/dh_0, dL/dc_0 on return; dh_prev (B, d) scratch;
 * dh_out, dc_out (T, B, d) or NULL record the total dL/dh_t, dL/dc_t. WT4 (4, d, d):
 * each gate's W_k^T, contiguous, which is W^T (4d, d). dL/dh_{t-1} = sum_k dL/da_k W_k^T
 * is one product with the gates side by side, else four. */
static CLONES void SUFFIX(lstm_backward_rows)(int T, int B, int d, const team_span *sp,
                                              const REAL *dH, REAL *dh, REAL *dc,
                                              const REAL *C, const REAL *G, const REAL *TC,
                                              const REAL *WT4, const uint8_t *mask, REAL *dA,
                                              int side, REAL *dh_prev, REAL *dh_out,
                                              REAL *dc_out) {
    const int b0 = sp->b0, nb = sp->nb, u0 = sp->u0, nu = sp->nu;
    const long step = (long)B * d, gate = (long)T * step, r0 = (long)b0 * d;
    const long next = side ? d : gate;  /* in dA, from one gate to the next */
    for (int t = T - 1; t >= 0; t--) {
        for (int b = b0; b < b0 + nb; b++) {
            const REAL m = REAL_AT(mask, t, B, b);
            const long o = t * step + (long)b * d, r = (long)b * d + u0, ou = o + u0;
            REAL *dhb = dh + r, *a = dA + (side ? 4 * o : o) + u0;
            SUFFIX(take_dh)(nu, m, dhb, dH ? dH + ou : 0, dh_out ? dh_out + ou : 0);
            SUFFIX(lstm_grad_row)(nu, m, G + ou, G + gate + ou, G + 2 * gate + ou,
                                  G + 3 * gate + ou, TC + ou, C + ou, a, a + next, a + 2 * next,
                                  a + 3 * next, dhb, dc + r,
                                  dc_out ? dc_out + ou : dh_prev + r);  /* or scratch */
        }
        team_sync(sp);  /* every unit of dL/da_t, before the products */
        if (side)
            MM_NN(nb, nu, 4 * d, dA + 4 * (t * step + r0), 4 * d, WT4 + u0, d, 0,
                  dh_prev + r0 + u0, d);
        else
            for (int k = 0; k < 4; k++)
                MM_NN(nb, nu, d, dA + k * gate + t * step + r0, d, WT4 + (long)k * d * d + u0,
                      d, k ? 1 : 0, dh_prev + r0 + u0, d);
        for (int b = b0; b < b0 + nb; b++)
            if (REAL_AT(mask, t, B, b))
                memcpy(dh + (long)b * d + u0, dh_prev + (long)b * d + u0, nu * sizeof(REAL));
    }
}

/* ---- GRU --------------------------------------------------------------------- */

/* w: h_{t-1} W_k of this row for the gates k = z, r, h, `gap` apart. */
/* bh: b_hz, b_hr, b_hh, `bgap` apart. */
static inline void SUFFIX(gru_row_after)(int d, REAL *restrict gz, REAL *restrict gr,
                                         REAL *restrict gn, const REAL *restrict w, long gap,
                                         const REAL *restrict bh, long bgap,
                                         const REAL *restrict hp, REAL *restrict s,
                                         REAL *restrict hn) {
    for (int j = 0; j < d; j++) {
        const REAL z = SIGMOID(gz[j] + w[j] + bh[j]);
        const REAL r = SIGMOID(gr[j] + w[gap + j] + bh[bgap + j]);
        const REAL sj = w[2 * gap + j] + bh[2 * bgap + j];  /* h_{t-1} W_h + b_hh */
        const REAL n = TANH(gn[j] + r * sj);
        gz[j] = z, gr[j] = r, gn[j] = n, s[j] = sj;
        hn[j] = n + z * (hp[j] - n);
    }
}

static inline void SUFFIX(gru_row_gates)(int d, REAL *restrict gz, REAL *restrict gr,
                                         const REAL *restrict w, long gap,
                                         const REAL *restrict hp, REAL *restrict s) {
    for (int j = 0; j < d; j++) {
        const REAL z = SIGMOID(gz[j] + w[j]), r = SIGMOID(gr[j] + w[gap + j]);
        gz[j] = z, gr[j] = r, s[j] = r * hp[j];
    }
}

static inline void SUFFIX(gru_row_candidate)(int d, const REAL *restrict gz, REAL *restrict gn,
                                             const REAL *restrict rn, const REAL *restrict hp,
                                             REAL *restrict hn) {
    for (int j = 0; j < d; j++) {
        const REAL n = TANH(gn[j] + rn[j]);
        gn[j] = n;
        hn[j] = n + gz[j] * (hp[j] - n);
    }
}

/* The GRU (gates z, r, n): G (3, T, B, d) holds xw + b_x on entry, the gates on
 * return; H (T+1, B, d) holds h_0; S (T, B, d) gets h_{t-1} W_h + b_hh (reset_after)
 * or r_t * h_{t-1}. The gates' W_k are at W + k * wgap, rows ldw apart, as in
 * lstm_forward. bh (3d): the recurrent bias (zeros without). hw: (3, B, d); rn: (B, d). */
static CLONES void SUFFIX(gru_forward_rows)(int T, int B, int d, const team_span *sp,
                                            REAL *G, REAL *H, REAL *S, const REAL *W, int ldw,
                                            long wgap, const REAL *bh, const uint8_t *mask,
                                            int reset_after, REAL *hw, REAL *rn, REAL *wp) {
    const int b0 = sp->b0, nb = sp->nb, u0 = sp->u0, nu = sp->nu;
    const long step = (long)B * d, gate = (long)T * step, r0 = (long)b0 * d;
    const int whole = wgap == d && ldw == 3 * d;  /* W in place: one product, hw (B, 3d) */
    const int n = reset_after ? 3 : 2;  /* the gates whose product needs only h_{t-1} */
    const int units = nu < d;  /* a unit part: its columns of W in wp, its block of hw */
    const long row = units ? 3L * nu : whole ? 3L * d : d;  /* in hw */
    const long gap = units ? nu : whole ? d : step;
    const REAL *wh = W + 2 * wgap;  /* W_h, rows ldw apart: r_t * h_{t-1} meets it */
    int ldh = ldw;
    if (units) {
        wp += 3L * d * u0;
        SUFFIX(unit_columns)(d, 3, u0, nu, W, ldw, wgap, wp);
        hw += 3L * B * u0 - u0;  /* row b's gates of unit u0 + j at hw + b row + u0 + j */
        wh = wp + 2 * nu - u0, ldh = 3 * nu;  /* (wh + u0: this part's columns) */
    }
    for (int t = 0; t < T; t++) {
        const REAL *hp = H + t * step;
        REAL *hn = H + (t + 1) * step;
        if (units)
            MM_NN(nb, n * nu, d, hp, d, wp, 3 * nu, 0, hw + u0, 3 * nu);
        else if (whole)
            MM_NN(nb, n * d, d, hp + r0, d, W, ldw, 0, hw + 3 * r0, 3 * d);
        else
            for (int k = 0; k < n; k++)  /* h_{t-1} W_k */
                MM_NN(nb, d, d, hp + r0, d, W + k * wgap, ldw, 0, hw + k * step + r0, d);
        for (int b = b0; b < b0 + nb; b++) {
            const long o = t * step + (long)b * d + u0, r = (long)b * d + u0;
            if (reset_after)
                SUFFIX(gru_row_after)(nu, G + o, G + gate + o, G + 2 * gate + o,
                                      hw + b * row + u0, gap, bh + u0, d, hp + r, S + o, hn + r);
            else
                SUFFIX(gru_row_gates)(nu, G + o, G + gate + o, hw + b * row + u0, gap, hp + r,
                                      S + o);
        }
        if (!reset_after) {  /* the candidate needs (r_t * h_{t-1}) W_h of every row */
            team_sync(sp);  /* every unit of r_t * h_{t-1} */
            MM_NN(nb, nu, d, S + t * step + r0, d, wh + u0, ldh, 0, rn + r0 + u0, d);
            for (int b = b0; b < b0 + nb; b++) {
                const long o = t * step + (long)b * d + u0, r = (long)b * d + u0;
                SUFFIX(gru_row_candidate)(nu, G + o, G + 2 * gate + o, rn + r, hp + r, hn + r);
            }
        }
        for (int b = b0; b < b0 + nb; b++)
            if (!REAL_AT(mask, t, B, b))
                memcpy(hn + (long)b * d + u0, hp + (long)b * d + u0, nu * sizeof(REAL));
        team_sync(sp);  /* every unit of h_t, before the next step's product */
    }
}

/* dL/da_z, dL/da_r, dL/da_n of one row; with reset_after also rdn = r_t dL/da_n, what
 * h_{t-1} W_h + b_hh receives. */
static inline void SUFFIX(gru_grad_row)(int d, REAL m, int reset_after, const REAL *restrict z,
                                        const REAL *restrict r, const REAL *restrict n,
                                        const REAL *restrict s, const REAL *restrict hp,
                                        const REAL *restrict dh, REAL *restrict az,
                                        REAL *restrict ar, REAL *restrict an,
                                        REAL *restrict rdn) {
    if (reset_after) {
        for (int j = 0; j < d; j++) {
            const REAL vz = dh[j] * (hp[j] - n[j]) * z[j] * (1 - z[j]) * m;
            const REAL vn = dh[j] * (1 - z[j]) * (1 - n[j] * n[j]) * m;
            az[j] = vz, ar[j] = vn * s[j] * r[j] * (1 - r[j]), an[j] = vn, rdn[j] = vn * r[j];
        }
    } else {
        for (int j = 0; j < d; j++) {
            az[j] = dh[j] * (hp[j] - n[j]) * z[j] * (1 - z[j]) * m;
            an[j] = dh[j] * (1 - z[j]) * (1 - n[j] * n[j]) * m;
        }
    }
}

static inline void SUFFIX(gru_grad_reset)(int d, REAL m, const REAL *restrict r,
                                          const REAL *restrict hp, const REAL *restrict ds,
                                          REAL *restrict ar) {
    for (int j = 0; j < d; j++) ar[j] = ds[j] * hp[j] * r[j] * (1 - r[j]) * m;
}

static inline void SUFFIX(gru_grad_carry)(int d, const REAL *restrict z, const REAL *restrict r,
                                          const REAL *restrict ds, const REAL *restrict dp,
                                          REAL *restrict dh) {
    if (ds)
        for (int j = 0; j < d; j++) dh[j] = dp[j] + ds[j] * r[j] + dh[j] * z[j];
    else
        for (int j = 0; j < d; j++) dh[j] = dp[j] + dh[j] * z[j];
}

/* BPTT of gru_forward: dA out, gate-major (3, T, B, d), or with `side` the gates side by
 * side (T, B, 3d); dh (B, d) holds dL/dh_T on entry and dL/dh_0 on return; rdn
 * (T, B, d) gets r_t dL/da_n of every step (reset_after: what dW_h and b_hh see);
 * dh_prev and ds (B, d) scratch; dh_out or NULL. WT3 (3, d, d): each gate's W_k^T,
 * contiguous, which is W^T (3d, d). */
static CLONES void SUFFIX(gru_backward_rows)(int T, int B, int d, const team_span *sp,
                                             const REAL *dH, REAL *dh, const REAL *H,
                                             const REAL *G, const REAL *S, const REAL *WT3,
                                             const uint8_t *mask, int reset_after, REAL *dA,
                                             int side, REAL *rdn, REAL *dh_prev, REAL *ds,
                                             REAL *dh_out) {
    const int b0 = sp->b0, nb = sp->nb, u0 = sp->u0, nu = sp->nu;
    const long step = (long)B * d, gate = (long)T * step, dd = (long)d * d, r0 = (long)b0 * d;
    const long next = side ? d : gate;   /* in dA, from one gate to the next */
    const int lda = side ? 3 * d : d;    /* and from one row to the next */
    for (int t = T - 1; t >= 0; t--) {
        const REAL *hp = H + t * step;
        REAL *da = dA + (side ? 3 : 1) * (t * step + r0);  /* this part's rows of step t */
        for (int b = b0; b < b0 + nb; b++) {
            const REAL m = REAL_AT(mask, t, B, b);
            const long o = t * step + (long)b * d, r = (long)b * d + u0, ou = o + u0;
            REAL *dhb = dh + r, *a = dA + (side ? 3 * o : o) + u0;
            SUFFIX(take_dh)(nu, m, dhb, dH ? dH + ou : 0, dh_out ? dh_out + ou : 0);
            SUFFIX(gru_grad_row)(nu, m, reset_after, G + ou, G + gate + ou, G + 2 * gate + ou,
                                 S + ou, hp + r, dhb, a, a + next, a + 2 * next, rdn + ou);
        }
        team_sync(sp);  /* every unit of dL/da_t, before the products */
        if (!reset_after) {  /* dL/dS_t = dL/da_n W_h^T, then the reset gate's share */
            MM_NN(nb, nu, d, da + 2 * next, lda, WT3 + 2 * dd + u0, d, 0, ds + r0 + u0, d);
            for (int b = b0; b < b0 + nb; b++) {
                const long o = t * step + (long)b * d, r = (long)b * d + u0;
                SUFFIX(gru_grad_reset)(nu, REAL_AT(mask, t, B, b), G + gate + o + u0, hp + r,
                                       ds + r, dA + (side ? 3 * o : o) + next + u0);
            }
            team_sync(sp);  /* every unit of dL/da_r */
        }
        /* dL/dh_{t-1} through W: dL/da_z W_z^T + dL/da_r W_r^T (+ r_t dL/da_n W_h^T); with
         * the gates side by side the first two are one product */
        REAL *dp = dh_prev + r0 + u0;
        if (side) {
            MM_NN(nb, nu, 2 * d, da, lda, WT3 + u0, d, 0, dp, d);
        } else {
            MM_NN(nb, nu, d, da, d, WT3 + u0, d, 0, dp, d);
            MM_NN(nb, nu, d, da + gate, d, WT3 + dd + u0, d, 1, dp, d);
        }
        if (reset_after)
            MM_NN(nb, nu, d, rdn + t * step + r0, d, WT3 + 2 * dd + u0, d, 1, dp, d);
        for (int b = b0; b < b0 + nb; b++) {
            const long o = t * step + (long)b * d + u0, r = (long)b * d + u0;
            if (REAL_AT(mask, t, B, b))  /* else a pad passes dL/dh_t on unchanged */
                SUFFIX(gru_grad_carry)(nu, G + o, G + gate + o, reset_after ? 0 : ds + r,
                                       dh_prev + r, dh + r);
        }
    }
}

/* ---- The exported kernels: `parts` parts on the team ----------------------------
 * `parts` is the part count, with PARTS_UNITS set to split the units instead of the
 * rows (and PARTS_FORCED to split whatever the last splits did). Each kernel's
 * arguments start with the barrier its unit parts meet at: zero for row parts. */

#define PART_SPAN(a) const team_span span = team_part(part, parts, (a)->B, (a)->d, &(a)->bar)
#define RUN_PARTS(parts, fn, a) \
    ((parts) & PARTS_UNITS ? team_units((parts) & ~PARTS_UNITS, fn, a, &(a)->bar) \
                           : team_rows(parts, fn, a))

typedef struct {
    team_barrier bar;  /* where unit parts meet (team_units sets it) */
    int T, B, d; REAL *H; const REAL *W; const uint8_t *mask; REAL *hw;
} SUFFIX(rnn_forward_args);
static void SUFFIX(rnn_forward_part)(int part, int parts, void *p) {
    SUFFIX(rnn_forward_args) *a = p;
    PART_SPAN(a);
    SUFFIX(rnn_forward_rows)(a->T, a->B, a->d, &span, a->H, a->W, a->mask, a->hw);
}
void SUFFIX(rnn_forward)(int parts, int T, int B, int d, REAL *H, const REAL *W,
                         const uint8_t *mask, REAL *hw) {
    SUFFIX(rnn_forward_args) a = {{0}, T, B, d, H, W, mask, hw};
    RUN_PARTS(parts, SUFFIX(rnn_forward_part), &a);
}

typedef struct {
    team_barrier bar;  /* where unit parts meet (team_units sets it) */
    int T, B, d; const REAL *dH; REAL *dh; const REAL *H, *WT; const uint8_t *mask;
    REAL *dA, *dh_prev, *dh_out;
} SUFFIX(rnn_backward_args);
static void SUFFIX(rnn_backward_part)(int part, int parts, void *p) {
    SUFFIX(rnn_backward_args) *a = p;
    PART_SPAN(a);
    SUFFIX(rnn_backward_rows)(a->T, a->B, a->d, &span, a->dH, a->dh, a->H, a->WT, a->mask,
                              a->dA, a->dh_prev, a->dh_out);
}
void SUFFIX(rnn_backward)(int parts, int T, int B, int d, const REAL *dH, REAL *dh,
                          const REAL *H, const REAL *WT, const uint8_t *mask, REAL *dA,
                          REAL *dh_prev, REAL *dh_out) {
    SUFFIX(rnn_backward_args) a = {{0}, T, B, d, dH, dh, H, WT, mask, dA, dh_prev, dh_out};
    RUN_PARTS(parts, SUFFIX(rnn_backward_part), &a);
}

typedef struct {
    team_barrier bar;  /* where unit parts meet (team_units sets it) */
    int T, B, d; REAL *G, *H, *C, *TC; const REAL *W; int ldw; long wgap;
    const uint8_t *mask; REAL *hw, *wp;
} SUFFIX(lstm_forward_args);
static void SUFFIX(lstm_forward_part)(int part, int parts, void *p) {
    SUFFIX(lstm_forward_args) *a = p;
    PART_SPAN(a);
    SUFFIX(lstm_forward_rows)(a->T, a->B, a->d, &span, a->G, a->H, a->C, a->TC, a->W, a->ldw,
                              a->wgap, a->mask, a->hw, a->wp);
}
void SUFFIX(lstm_forward)(int parts, int T, int B, int d, REAL *G, REAL *H, REAL *C, REAL *TC,
                          const REAL *W, int ldw, long wgap, const uint8_t *mask, REAL *hw,
                          REAL *wp) {
    SUFFIX(lstm_forward_args) a = {{0}, T, B, d, G, H, C, TC, W, ldw, wgap, mask,
                                   hw, wp};
    RUN_PARTS(parts, SUFFIX(lstm_forward_part), &a);
}

typedef struct {
    team_barrier bar;  /* where unit parts meet (team_units sets it) */
    int T, B, d; const REAL *dH; REAL *dh, *dc; const REAL *C, *G, *TC, *WT4;
    const uint8_t *mask; REAL *dA; int side; REAL *dh_prev, *dh_out, *dc_out;
} SUFFIX(lstm_backward_args);
static void SUFFIX(lstm_backward_part)(int part, int parts, void *p) {
    SUFFIX(lstm_backward_args) *a = p;
    PART_SPAN(a);
    SUFFIX(lstm_backward_rows)(a->T, a->B, a->d, &span, a->dH, a->dh, a->dc, a->C, a->G,
                               a->TC, a->WT4, a->mask, a->dA, a->side, a->dh_prev,
                               a->dh_out, a->dc_out);
}
void SUFFIX(lstm_backward)(int parts, int T, int B, int d, const REAL *dH, REAL *dh, REAL *dc,
                           const REAL *C, const REAL *G, const REAL *TC, const REAL *WT4,
                           const uint8_t *mask, REAL *dA, int side, REAL *dh_prev,
                           REAL *dh_out, REAL *dc_out) {
    SUFFIX(lstm_backward_args) a = {{0}, T, B, d, dH, dh, dc, C, G, TC, WT4, mask, dA, side,
                                    dh_prev, dh_out, dc_out};
    RUN_PARTS(parts, SUFFIX(lstm_backward_part), &a);
}

typedef struct {
    team_barrier bar;  /* where unit parts meet (team_units sets it) */
    int T, B, d; REAL *G, *H, *S; const REAL *W; int ldw; long wgap; const REAL *bh;
    const uint8_t *mask; int reset_after; REAL *hw, *rn, *wp;
} SUFFIX(gru_forward_args);
static void SUFFIX(gru_forward_part)(int part, int parts, void *p) {
    SUFFIX(gru_forward_args) *a = p;
    PART_SPAN(a);
    SUFFIX(gru_forward_rows)(a->T, a->B, a->d, &span, a->G, a->H, a->S, a->W, a->ldw, a->wgap,
                             a->bh, a->mask, a->reset_after, a->hw, a->rn, a->wp);
}
void SUFFIX(gru_forward)(int parts, int T, int B, int d, REAL *G, REAL *H, REAL *S,
                         const REAL *W, int ldw, long wgap, const REAL *bh,
                         const uint8_t *mask, int reset_after, REAL *hw, REAL *rn, REAL *wp) {
    SUFFIX(gru_forward_args) a = {{0}, T, B, d, G, H, S, W, ldw, wgap, bh, mask,
                                  reset_after, hw, rn, wp};
    RUN_PARTS(parts, SUFFIX(gru_forward_part), &a);
}

typedef struct {
    team_barrier bar;  /* where unit parts meet (team_units sets it) */
    int T, B, d; const REAL *dH; REAL *dh; const REAL *H, *G, *S, *WT3; const uint8_t *mask;
    int reset_after; REAL *dA; int side; REAL *rdn, *dh_prev, *ds, *dh_out;
} SUFFIX(gru_backward_args);
static void SUFFIX(gru_backward_part)(int part, int parts, void *p) {
    SUFFIX(gru_backward_args) *a = p;
    PART_SPAN(a);
    SUFFIX(gru_backward_rows)(a->T, a->B, a->d, &span, a->dH, a->dh, a->H, a->G, a->S, a->WT3,
                              a->mask, a->reset_after, a->dA, a->side, a->rdn, a->dh_prev,
                              a->ds, a->dh_out);
}
void SUFFIX(gru_backward)(int parts, int T, int B, int d, const REAL *dH, REAL *dh,
                          const REAL *H, const REAL *G, const REAL *S, const REAL *WT3,
                          const uint8_t *mask, int reset_after, REAL *dA, int side,
                          REAL *rdn, REAL *dh_prev, REAL *ds, REAL *dh_out) {
    SUFFIX(gru_backward_args) a = {{0}, T, B, d, dH, dh, H, G, S, WT3, mask,
                                   reset_after, dA, side, rdn, dh_prev, ds, dh_out};
    RUN_PARTS(parts, SUFFIX(gru_backward_part), &a);
}

#undef PART_SPAN
#undef RUN_PARTS

/* B (n, m) = A^T for A (m, n), both contiguous, in 8 x 8 tiles (the backward kernels'
 * W^T): 30 us at (128, 512), where 32 x 32 tiles took 71 (A's rows, a power of two
 * apart, share a few cache sets) and NumPy's strided copy 148. */
static CLONES void SUFFIX(transpose_tiles)(long m, long n, const REAL *A, REAL *B) {
    const long tile = 8;
    for (long i0 = 0; i0 < m; i0 += tile) {
        const long i1 = i0 + tile < m ? i0 + tile : m;
        for (long j0 = 0; j0 < n; j0 += tile) {
            const long j1 = j0 + tile < n ? j0 + tile : n;
            for (long j = j0; j < j1; j++)
                for (long i = i0; i < i1; i++) B[j * m + i] = A[i * n + j];
        }
    }
}
void SUFFIX(transpose)(long m, long n, const REAL *A, REAL *B) {
    SUFFIX(transpose_tiles)(m, n, A, B);
}

/* ---- Row-sparse gradients and updates ---------------------------------------------
 * An embedding's E (and a Dense layer's V on ids) gets a gradient only in the rows of
 * the ids that occurred. The NumPy reference (rnnkit/core/embedding.py) finds the
 * distinct ids, sums the rows of repeated ones and adds the result into the gradient:
 * a dozen NumPy calls. Here it is one pass over the tokens, the same additions in the
 * same order. */

static inline void SUFFIX(row_add)(long e, REAL *restrict g, const REAL *restrict x, REAL s) {
    for (long j = 0; j < e; j++) g[j] += x[j] * s;  /* x * 1 is x: the sum alone */
}

static inline void SUFFIX(row_sgd)(long e, REAL *restrict p, const REAL *restrict g, REAL lr) {
    for (long j = 0; j < e; j++) p[j] -= g[j] * lr;
}

/* G[ids[i]] += X[i] * s for i = 0 .. n-1 in turn, skipping the i where mask[i] is 0
 * (mask NULL: none); X's rows ldx apart, G's contiguous, both e wide. (The product is
 * rounded before the sum, as NumPy's two operations round it: the same bits.) */
static CLONES void SUFFIX(rows_add_all)(long n, const int64_t *ids, const REAL *X, long ldx,
                                        const uint8_t *mask, REAL *G, long e, REAL s) {
    for (long i = 0; i < n; i++)
        if (!mask || mask[i]) SUFFIX(row_add)(e, G + ids[i] * e, X + i * ldx, s);
}
void SUFFIX(rows_add)(long n, const int64_t *ids, const REAL *X, long ldx,
                      const uint8_t *mask, REAL *G, long e, REAL s) {
    SUFFIX(rows_add_all)(n, ids, X, ldx, mask, G, e, s);
}

/* P[r] -= G[r] * lr for each of the k rows r (SGD on the rows a sparse gradient
 * touched); P and G contiguous, e wide. */
static CLONES void SUFFIX(rows_sgd_all)(long k, const int64_t *rows, const REAL *G, REAL *P,
                                        long e, REAL lr) {
    for (long i = 0; i < k; i++) SUFFIX(row_sgd)(e, P + rows[i] * e, G + rows[i] * e, lr);
}
void SUFFIX(rows_sgd)(long k, const int64_t *rows, const REAL *G, REAL *P, long e, REAL lr) {
    SUFFIX(rows_sgd_all)(k, rows, G, P, e, lr);
}

#undef MM_NN
#undef SIGMOID
#undef REAL_AT
