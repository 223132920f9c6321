/* A team of threads that runs both OpenBLAS's parallel jobs and the kernels' row parts.
 *
 * A recurrence's rows never meet: a kernel given rows b0 .. b0 + nb - 1 runs the whole
 * time loop on them alone, so the batch can be split over threads with no barrier per
 * step. The split only pays while the other core is free, and in a training step it
 * is not if OpenBLAS keeps its own threads: after each large product they spin for
 * about 0.1 s waiting for the next one, on the core a row part would take. So the team
 * runs OpenBLAS's jobs too (openblas_set_threads_callback_function: OpenBLAS then
 * hands each parallel product to rnnkit_blas_jobs instead of waking its threads), and
 * one set of threads serves both.
 *
 * team_run(parts, fn, arg, concurrent) runs fn(part, parts, arg) for part 0 .. parts - 1
 * and returns when all are done. OpenBLAS's jobs wait for each other, so each thread is
 * given one (part 0 the caller's); the kernels' row parts are taken by whichever
 * thread is free, the caller too, so none waits for a worker that is late to start
 * (its core busy with another process). Workers are started when first needed;
 * after a job it had a part in, a worker spins for spin_us (a product every few tens of
 * microseconds is the common case, and waking a sleeping thread costs about that much
 * again), then sleeps on a condition variable; a worker that a job leaves out (fewer
 * parts than workers) sleeps at once, so spare workers never take a core. A job is
 * announced by one atomic word, its generation and its part count together, so a
 * worker never mistakes one job's parts for another's.
 *
 * One job runs at a time. A caller that finds the team busy (another thread's job) or
 * that is itself inside a job runs the parts itself, one after another, or, for
 * OpenBLAS's jobs, which wait for each other and must run at once, on threads started
 * for the call. After fork() the child has none of the workers: the team starts anew.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef void (*team_fn)(int part, int parts, void *arg);

#define TEAM_MAX 255 /* parts fit the announcement's low byte */
#define TEAM_SHIFT 9  /* the announcement: generation << 9 | concurrent << 8 | parts */
#define CLAIM_SHIFT 16 /* a claim: generation << 16 | the next part to take */

static struct {
    pthread_mutex_t lock;      /* guards sleeping and starting workers */
    pthread_cond_t wake;
    pthread_mutex_t run;       /* held by the caller whose job runs */
    uint64_t job;              /* the announcement (TEAM_SHIFT) */
    uint64_t claim;            /* parts taken so far, with the job's generation */
    int pending;               /* parts not yet done */
    int sleepers;
    int workers;               /* started, ids 1 .. workers */
    uint64_t started_at;       /* the generation when the last workers were started */
    team_fn fn;
    void *arg;
    long spin_us;
} team = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
          0, 0, 0, 0, 0, 0, 0, 0, 1000};

static __thread int team_inside = 0; /* this thread runs a part of a job now */

/* One parallel product of OpenBLAS's at a time: job k of every product packs its panels
 * into OpenBLAS's k-th thread buffer, which two products at once would share. (Its own
 * threads serialise the same way: a thread takes the next product when free.) */
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;

/* One turn of a wait: a few no-ops, as OpenBLAS's own threads spin. Not the PAUSE
 * instruction: in a virtual machine a loop of PAUSEs makes the hypervisor take the core
 * away (pause-loop exiting), and two processes whose threads wait on each other then
 * ran eight times slower than on OpenBLAS's threads. Not sched_yield either: a waiting
 * thread that yields loses its place to another process's threads for a whole time
 * slice. */
static inline void team_pause(void) { __asm__ __volatile__("nop;nop;nop;nop;nop;nop;nop;nop"); }

/* The caller's wait for the parts still running on workers: a short spin, then turns
 * that give the core away, so that where threads outnumber cores (two processes) a
 * worker that shares the caller's core can finish its part. On an idle machine the
 * parts end within the spin, or sched_yield returns at once. */
static void team_wait_pending(void) {
    for (int spins = 0; __atomic_load_n(&team.pending, __ATOMIC_ACQUIRE) > 0; spins++) {
        if (spins < 4096)
            team_pause();
        else
            sched_yield();
    }
}

static inline long team_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* Take and run parts of job `generation` until none is left. Parts that need not run
 * at once are taken, not given: a thread that is late (its core busy elsewhere) finds
 * them done by the others, and no one waits for a part it has not begun. A claim names
 * its job, so a thread that wakes after the job has ended takes nothing. */
static int team_take_parts(uint64_t generation, int parts) {
    for (int taken = 0;; taken++) {
        uint64_t claim = __atomic_load_n(&team.claim, __ATOMIC_ACQUIRE);
        const int part = (int)(claim & ((1u << CLAIM_SHIFT) - 1));
        if (claim >> CLAIM_SHIFT != generation || part >= parts) return taken;
        if (!__atomic_compare_exchange_n(&team.claim, &claim, claim + 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            taken--;
            continue;
        }
        team.fn(part, parts, team.arg);  /* the job cannot end before this part is done */
        __atomic_sub_fetch(&team.pending, 1, __ATOMIC_RELEASE);
    }
}

/* Whether announcement `job` is one worker `id` has not seen and has a part in. */
static inline int team_wanted(uint64_t job, uint64_t seen, int id) {
    return job >> TEAM_SHIFT != seen && id < (int)(job & 0xff);
}

static void *team_worker(void *p) {
    const int id = (int)(intptr_t)p;
    /* the generation before the job it was started for: that job is still to run */
    uint64_t seen = team.started_at;
    int spin = 0; /* spin for the next job only after one it had a part in */
    team_inside = 1;
    for (;;) {
        uint64_t job;
        const long start = spin ? team_now_us() : 0;
        for (int spins = 1;
             !team_wanted(job = __atomic_load_n(&team.job, __ATOMIC_ACQUIRE), seen, id);
             spins++) {
            if (job >> TEAM_SHIFT != seen) spin = 0; /* a job without it: the rest are smaller */
            if (!spin || (spins % 16 == 0 && team_now_us() - start > team.spin_us)) {
                pthread_mutex_lock(&team.lock);
                __atomic_add_fetch(&team.sleepers, 1, __ATOMIC_SEQ_CST);
                while (!team_wanted(job = __atomic_load_n(&team.job, __ATOMIC_SEQ_CST), seen, id))
                    pthread_cond_wait(&team.wake, &team.lock);
                __atomic_sub_fetch(&team.sleepers, 1, __ATOMIC_SEQ_CST);
                pthread_mutex_unlock(&team.lock);
                break;
            }
            team_pause();
        }
        seen = job >> TEAM_SHIFT;
        const int parts = (int)(job & 0xff), concurrent = (int)(job >> 8 & 1);
        if (!concurrent) {
            team_take_parts(seen, parts);
        } else {  /* part `id`: the job cannot end before it is done */
            team.fn(id, parts, team.arg);
            __atomic_sub_fetch(&team.pending, 1, __ATOMIC_RELEASE);
        }
        spin = 1;
    }
    return 0;
}

/* Workers 1 .. parts - 1, started if need be; 0 when a thread cannot be started. The
 * caller holds team.run, so no job is announced meanwhile. */
static int team_grow(int parts) {
    int ok = 1;
    pthread_mutex_lock(&team.lock);
    team.started_at = __atomic_load_n(&team.job, __ATOMIC_RELAXED) >> TEAM_SHIFT;  /* still */
    while (team.workers < parts - 1 && ok) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        ok = pthread_create(&thread, &attr, team_worker, (void *)(intptr_t)(team.workers + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (ok) team.workers++;
    }
    pthread_mutex_unlock(&team.lock);
    return ok;
}

typedef struct {
    team_fn fn;
    void *arg;
    int part, parts;
} team_call;

static void *team_call_main(void *p) {
    team_call *c = p;
    team_inside = 1;
    c->fn(c->part, c->parts, c->arg);
    return 0;
}

/* The parts on threads started for this call (OpenBLAS's jobs when the team is busy). */
static void team_run_apart(int parts, team_fn fn, void *arg) {
    pthread_t *threads = malloc(sizeof(pthread_t) * (size_t)parts);
    team_call *calls = malloc(sizeof(team_call) * (size_t)parts);
    if (!threads || !calls) abort();  /* out of memory: nothing can go on */
    for (int i = 1; i < parts; i++) {
        calls[i] = (team_call){fn, arg, i, parts};
        /* jobs that wait for each other cannot run in turn: no thread, no way on */
        if (pthread_create(&threads[i], 0, team_call_main, &calls[i]) != 0) abort();
    }
    const int was = team_inside;
    team_inside = 1;
    fn(0, parts, arg);
    team_inside = was;
    for (int i = 1; i < parts; i++) pthread_join(threads[i], 0);
    free(threads), free(calls);
}

/* How a split went, for team_rows: parts the caller ran, its time on them and its
 * time waiting for the workers' parts afterwards (microseconds). */
typedef struct {
    int taken;
    long own_us, wait_us;
} team_split;

/* Announce a job to the workers and run the caller's share; the caller holds team.run
 * and team_grow has started the workers. */
static void team_announce(int parts, team_fn fn, void *arg, int concurrent, team_split *split) {
    team.fn = fn;
    team.arg = arg;
    const uint64_t generation = (__atomic_load_n(&team.job, __ATOMIC_RELAXED) >> TEAM_SHIFT) + 1;
    __atomic_store_n(&team.pending, parts, __ATOMIC_RELAXED);
    __atomic_store_n(&team.claim, generation << CLAIM_SHIFT | (concurrent ? 1 : 0),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&team.job,
                     generation << TEAM_SHIFT | (uint64_t)(concurrent != 0) << 8 | (uint64_t)parts,
                     __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&team.sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&team.lock);
        pthread_cond_broadcast(&team.wake);
        pthread_mutex_unlock(&team.lock);
    }
    team_inside = 1;
    const long start = split ? team_now_us() : 0;
    int taken = 1;
    if (concurrent) {  /* part 0 here, part k on worker k */
        fn(0, parts, arg);
        __atomic_sub_fetch(&team.pending, 1, __ATOMIC_RELEASE);
    } else {
        taken = team_take_parts(generation, parts);
    }
    team_inside = 0;
    const long own = split ? team_now_us() : 0;
    team_wait_pending();
    if (split) *split = (team_split){taken, own - start, team_now_us() - own};
}

/* concurrent: the parts wait for each other (OpenBLAS), so they may not run in turn.
 * split (or NULL) gets how the caller's share went. */
static void team_run(int parts, team_fn fn, void *arg, int concurrent, team_split *split) {
    if (split) *split = (team_split){parts, 0, 0};  /* unless the team runs it: all here */
    if (parts <= 1) {
        fn(0, 1, arg);
        return;
    }
    if (parts <= TEAM_MAX && !team_inside && pthread_mutex_trylock(&team.run) == 0) {
        const int grown = team_grow(parts);
        if (grown) team_announce(parts, fn, arg, concurrent, split);
        pthread_mutex_unlock(&team.run);
        if (grown) return;
    }
    if (concurrent)  /* the team is busy, or this is a part of its job */
        team_run_apart(parts, fn, arg);
    else
        for (int i = 0; i < parts; i++) fn(i, parts, arg);
}

/* After fork() only the calling thread exists: the child starts its own workers. */
static void team_after_fork(void) {
    pthread_mutex_init(&blas_lock, 0);
    pthread_mutex_init(&team.lock, 0);
    pthread_cond_init(&team.wake, 0);
    pthread_mutex_init(&team.run, 0);
    team.job = 0, team.claim = 0, team.pending = 0, team.sleepers = 0, team.workers = 0;
    team_inside = 0;
}

/* ---- OpenBLAS's parallel jobs on the team --------------------------------------- */

typedef void (*blas_dojob)(int thread_num, void *jobdata, int dojob_data);

typedef struct {
    blas_dojob dojob;
    char *jobs;
    size_t size;
    int data;
} blas_jobs;

static void blas_job_part(int part, int parts, void *p) {
    blas_jobs *j = p;
    (void)parts;
    j->dojob(part, j->jobs + (size_t)part * j->size, j->data);
}

static long blas_calls = 0;

/* The parallel products OpenBLAS has handed over so far (the tests read it). */
long rnnkit_team_blas_calls(void) { return __atomic_load_n(&blas_calls, __ATOMIC_RELAXED); }

/* openblas_threads_callback: run OpenBLAS's `numjobs` jobs at once on the team. */
void rnnkit_blas_jobs(int sync, blas_dojob dojob, int numjobs, size_t jobdata_elsize,
                      void *jobdata, int dojob_data) {
    __atomic_add_fetch(&blas_calls, 1, __ATOMIC_RELAXED);
    blas_jobs j = {dojob, jobdata, jobdata_elsize, dojob_data};
    (void)sync;
    pthread_mutex_lock(&blas_lock);
    team_run(numjobs, blas_job_part, &j, 1, 0);
    pthread_mutex_unlock(&blas_lock);
}

/* ---- BLAS on one thread while the team runs row parts ---------------------------- */

typedef int (*blas_threads_get)(void);
typedef void (*blas_threads_set)(int);
static blas_threads_get threads_get = 0;
static blas_threads_set threads_set = 0;
static pthread_mutex_t single_lock = PTHREAD_MUTEX_INITIALIZER;
static int single_count = 0, single_before = 1;

static void blas_single_begin(void) {
    if (!threads_get) return;
    pthread_mutex_lock(&single_lock);
    if (single_count++ == 0) {
        single_before = threads_get();
        if (single_before != 1) threads_set(1);
    }
    pthread_mutex_unlock(&single_lock);
}

static void blas_single_end(void) {
    if (!threads_get) return;
    pthread_mutex_lock(&single_lock);
    if (--single_count == 0 && single_before != 1) threads_set(single_before);
    pthread_mutex_unlock(&single_lock);
}

/* Splits skipped after SPLIT_MISSES in a row that did not pay: while other processes'
 * threads fill the cores, a worker starts late or stops midway, and the caller either
 * runs every part itself or waits for one; then batches run in one loop (products on
 * BLAS's threads) for the next SPLIT_BACKOFF kernels, and a split is tried again. One
 * miss alone is the first split after a pause, whose worker was asleep. */
#define SPLIT_MISSES 3
#define SPLIT_BACKOFF 64
static int split_skips = 0, split_misses = 0;
/* kernels split, splits that did not pay, kernels not split while backing off */
static long split_counts[3];

/* `parts` with this bit set: split even while splits are skipped (tests, benchmarks);
 * rnnkit/core/recurrences.py sets it as FORCED. */
#define PARTS_FORCED 0x10000

/* Count a split, and back off after SPLIT_MISSES in a row that did not pay. */
static void team_count_split(int missed) {
    __atomic_add_fetch(&split_counts[0], 1, __ATOMIC_RELAXED);
    if (missed) __atomic_add_fetch(&split_counts[1], 1, __ATOMIC_RELAXED);
    const int misses = missed ? __atomic_add_fetch(&split_misses, 1, __ATOMIC_RELAXED) : 0;
    if (!missed) __atomic_store_n(&split_misses, 0, __ATOMIC_RELAXED);
    if (misses >= SPLIT_MISSES) {
        __atomic_store_n(&split_misses, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&split_skips, SPLIT_BACKOFF, __ATOMIC_RELAXED);
    }
}

/* The parts to run now: 1 while splits are skipped (counted as skipped), unless forced. */
static int team_parts_now(int parts, int forced) {
    if (parts > 1 && !forced && __atomic_load_n(&split_skips, __ATOMIC_RELAXED) > 0) {
        __atomic_sub_fetch(&split_skips, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&split_counts[2], 1, __ATOMIC_RELAXED);
        return 1;
    }
    return parts;
}

/* The row parts of a kernel: each part's products on one BLAS thread. */
static void team_rows(int parts, team_fn fn, void *arg) {
    const int forced = parts & PARTS_FORCED;
    parts = team_parts_now(parts & (PARTS_FORCED - 1), forced);
    if (parts <= 1) {
        fn(0, 1, arg);
        return;
    }
    team_split split;
    blas_single_begin();
    team_run(parts, fn, arg, 0, &split);
    blas_single_end();
    if (forced) return;
    /* it paid if the workers took parts and the caller did not wait long for them */
    team_count_split(split.taken == parts || split.wait_us * 4 > split.own_us + 200);
}

/* ---- Unit parts: every row, some of the units, a barrier a step -------------------
 *
 * Where the rows are few for their width (B 128, d 1024), a part of half the rows
 * multiplies by the whole of W (12 MB for a GRU) at every step, and OpenBLAS packs all
 * of it again for each such thin product. Split the units instead (a gated cell's
 * forward kernel ran 4 to 16% faster there: benchmarks/splits.py): part p takes every
 * row and the units [u0, u0 + nu) of each gate, so it multiplies by its columns of W
 * alone, and its gate pass needs only what its product gave. A step's product needs
 * every unit of h_{t-1} (dL/da_t backward), so the parts meet at a barrier once a step
 * (twice for a GRU whose reset gate comes before the product). The parts wait for each
 * other, so they run at once (team_run's concurrent jobs), each on its own thread. */

/* A spin barrier for `parts` threads; part 0 (the caller) adds up its waits. */
typedef struct {
    int parts, arrived, phase;
    long waited_us;
} team_barrier;

static void team_barrier_wait(team_barrier *b, int part) {
    const int phase = __atomic_load_n(&b->phase, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == b->parts) {
        __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);  /* seen before the phase */
        __atomic_store_n(&b->phase, phase + 1, __ATOMIC_RELEASE);
        return;
    }
    const long start = part == 0 ? team_now_us() : 0;
    for (int spins = 0; __atomic_load_n(&b->phase, __ATOMIC_ACQUIRE) == phase; spins++) {
        if (spins < 4096)
            team_pause();
        else
            sched_yield();  /* as team_wait_pending: a part sharing this core can go on */
    }
    if (part == 0) b->waited_us += team_now_us() - start;
}

/* `parts` with this bit set: split the units, not the rows (PARTS_UNITS in
 * rnnkit/core/recurrences.py). */
#define PARTS_UNITS 0x20000

/* The unit parts of a kernel, each on its own thread with one-thread products; how
 * they went counts as team_rows's splits do (part 0's waits at the barrier against
 * its time). */
static void team_units(int parts, team_fn fn, void *arg, team_barrier *bar) {
    const int forced = parts & PARTS_FORCED;
    parts = team_parts_now(parts & (PARTS_FORCED - 1), forced);
    *bar = (team_barrier){parts, 0, 0, 0};
    if (parts <= 1) {
        fn(0, 1, arg);
        return;
    }
    const long start = team_now_us();
    blas_single_begin();
    team_run(parts, fn, arg, 1, 0);
    blas_single_end();
    if (forced) return;
    const long wait = bar->waited_us, own = team_now_us() - start - wait;
    team_count_split(wait * 4 > own + 200);
}

/* What one part of a kernel runs: rows [b0, b0 + nb) and units [u0, u0 + nu) of each
 * gate; `bar` is where unit parts meet (NULL for row parts, which never do). */
typedef struct {
    int b0, nb, u0, nu, part;
    team_barrier *bar;
} team_span;

/* Wait for the other unit parts (row parts go on). */
static inline void team_sync(const team_span *s) {
    if (s->bar) team_barrier_wait(s->bar, s->part);
}

/* Rows [*b0, *b0 + *nb) of B for part `part` of `parts`. */
static inline void team_part_rows(int part, int parts, int B, int *b0, int *nb) {
    const int start = (int)((long)B * part / parts), end = (int)((long)B * (part + 1) / parts);
    *b0 = start;
    *nb = end - start;
}

/* Units [*u0, *u0 + *nu) of d for part `part` of `parts`: bounds on multiples of 16
 * floats (a cache line) where d allows, so no two threads write one line. */
static inline void team_part_units(int part, int parts, int d, int *u0, int *nu) {
    const int grain = d >= 16 * parts ? 16 : 1, n = (d + grain - 1) / grain;
    const int start = n * part / parts * grain, end = n * (part + 1) / parts * grain;
    *u0 = start;
    *nu = (end < d ? end : d) - start;
}

/* Set by the Python side: OpenBLAS's thread count get/set, the workers' spin. */
void rnnkit_team_config(void *get, void *set, long spin_us) {
    static int registered = 0;
    threads_get = (blas_threads_get)get;
    threads_set = (blas_threads_set)set;
    team.spin_us = spin_us;
    if (!registered) {
        pthread_atfork(0, 0, team_after_fork);
        registered = 1;
    }
}

/* Into out[3]: kernels split, splits that did not pay, kernels run in one loop while
 * splits were skipped, since the library loaded. */
void rnnkit_team_split_counts(long *out) {
    for (int i = 0; i < 3; i++) out[i] = __atomic_load_n(&split_counts[i], __ATOMIC_RELAXED);
}

/* The workers started so far, and those asleep now (the tests read them). */
int rnnkit_team_workers(void) { return team.workers; }
int rnnkit_team_sleepers(void) { return __atomic_load_n(&team.sleepers, __ATOMIC_SEQ_CST); }

/* Part `part` of `parts`: its units of every row where team_units split the kernel
 * (and set `bar` for its parts), else its rows. */
static inline team_span team_part(int part, int parts, int B, int d, team_barrier *bar) {
    team_span s = {0, B, 0, d, part, 0};
    if (bar->parts > 1) {
        team_part_units(part, parts, d, &s.u0, &s.nu);
        s.bar = bar;
    } else {
        team_part_rows(part, parts, B, &s.b0, &s.nb);
    }
    return s;
}
