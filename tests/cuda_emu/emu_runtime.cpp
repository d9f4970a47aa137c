/*
 * Host emulation of the CUDA runtime and cuBLASLt subset the CUDA backend uses
 * (tests/cuda_emu/run.sh; verification harness, not a GPU result).
 *  - Device memory is host memory (aligned_alloc, filled with garbage like fresh device
 *    memory); ASan then sees out-of-bounds kernel accesses.
 *  - A stream is a worker thread running queued work in order, after a short delay that
 *    widens race windows: host code that reuses a staging buffer before its copy ran,
 *    or reads results before synchronising, gets wrong data.
 *  - A kernel runs block by block; the threads of a block run concurrently (one
 *    std::thread per CUDA thread) with a barrier for __syncthreads and per-warp barriers
 *    for shuffles: a barrier not reached by every thread deadlocks, and a missing one is
 *    a data race TSan reports. Shared memory starts as NaN bytes. Invalid launch
 *    configurations (block > 1024 threads, grid y/z > 65535, > 48 KB dynamic shared
 *    memory) fail as on the device.
 *  - Stream capture (cudaStreamBeginCapture .. cudaStreamEndCapture) as the runtime does
 *    it: work enqueued on a capturing stream (kernels, cudaMemcpyAsync/cudaMemsetAsync,
 *    cublasLtMatmul, cudaGraphLaunch) is recorded, not run, with its arguments as they
 *    were at the call; cudaGraphLaunch runs the recorded work in order on a stream.
 *    Synchronising a capturing stream (cudaStreamSynchronize, cudaDeviceSynchronize,
 *    cudaFree's implicit device synchronisation, waiting for an event recorded in the
 *    capture) fails with cudaErrorStreamCaptureUnsupported / cudaErrorCapturedEvent and
 *    invalidates the capture, as does an asynchronous copy from pageable host memory;
 *    "potentially unsafe" calls (cudaMalloc, cudaHostAlloc, synchronous cudaMemcpy) fail
 *    likewise under a global capture, or a thread-local one of the calling thread, and
 *    are allowed under cudaStreamCaptureModeRelaxed. cudaStreamEndCapture of an
 *    invalidated capture returns cudaErrorStreamCaptureInvalidated and no graph.
 *  - cublasLtMatmul computes D = alpha op(A) op(B) + beta C (+ bias) in column-major
 *    order with cuBLASLt's shape, batch and type checks, so a wrong argument mapping
 *    fails; the heuristic declines 16-bit operands with leading dimensions or pointers
 *    not 16-byte aligned, which exercises the reference-kernel fallback.
 */
#include "cublasLt.h"
#include "cuda_fp16.h"
#include "emu_device.h"
#include "pf_cuda_common.cuh"
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
static thread_local cudaError_t last_error = cudaSuccess;
static bool emu_no_device = getenv("EMU_NO_DEVICE") != nullptr;

/* ---- block execution ---- */
struct warp_state {
    std::barrier<> bar{32};
    float val[32];
    const void *addr[32]; /* ldmatrix row addresses */
    uint32_t a[32][4], b[32][2]; /* mma operand fragments */
    int vote[32];                /* __any_sync / __all_sync */
};
struct block_state {
    std::barrier<> *bar;
    std::vector<std::unique_ptr<warp_state>> warps;
    void *smem;
    std::atomic<int> or_acc{0}; /* __syncthreads_or */
};
static thread_local block_state *cur_block;
static thread_local int cur_lane, cur_warp;
void __syncthreads() { cur_block->bar->arrive_and_wait(); }
void __syncwarp(unsigned) { cur_block->warps[cur_warp]->bar.arrive_and_wait(); }
float emu_shfl_xor(float v, int o) {
    warp_state &w = *cur_block->warps[cur_warp];
    w.val[cur_lane] = v;
    w.bar.arrive_and_wait();
    float r = w.val[cur_lane ^ o];
    w.bar.arrive_and_wait();
    return r;
}
int emu_warp_vote(int pred, bool all) {
    warp_state &w = *cur_block->warps[cur_warp];
    w.vote[cur_lane] = pred != 0;
    w.bar.arrive_and_wait();
    int r = all ? 1 : 0;
    for (int l = 0; l < 32; l++) r = all ? (r && w.vote[l]) : (r || w.vote[l]);
    w.bar.arrive_and_wait();
    return r;
}
void *emu_dyn_smem() { return cur_block->smem; }

static float emu_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Lanes 8m..8m+7 give the rows (8 b16 each) of 8x8 matrix m. Register m of lane L holds
 * (row L/4, cols 2(L%4), 2(L%4)+1) of matrix m, or with .trans (rows 2(L%4), 2(L%4)+1;
 * col L/4), the lower index in the low half. */
void emu_ldmatrix_x4(uint32_t r[4], const void *row_addr, bool trans) {
    warp_state &w = *cur_block->warps[cur_warp];
    w.addr[cur_lane] = row_addr;
    w.bar.arrive_and_wait();
    const int L = cur_lane;
    for (int m = 0; m < 4; m++) {
        uint16_t lo, hi;
        if (!trans) {
            const uint16_t *row = (const uint16_t *)w.addr[8 * m + L / 4];
            lo = row[2 * (L % 4)];
            hi = row[2 * (L % 4) + 1];
        } else {
            lo = ((const uint16_t *)w.addr[8 * m + 2 * (L % 4)])[L / 4];
            hi = ((const uint16_t *)w.addr[8 * m + 2 * (L % 4) + 1])[L / 4];
        }
        r[m] = (uint32_t)lo | ((uint32_t)hi << 16);
    }
    w.bar.arrive_and_wait();
}

/* D = A B + C, A 16x16 row-major, B 16x8 column-major, f32 accumulation; with g = L/4,
 * t = L%4: a0 (g, 2t..2t+1) a1 (g+8, 2t..) a2 (g, 2t+8..) a3 (g+8, 2t+8..); b0 (k 2t..2t+1,
 * n g) b1 (k 2t+8..2t+9, n g); c0, c1 (g, 2t..2t+1) c2, c3 (g+8, 2t..2t+1). */
void emu_mma_bf16_16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    warp_state &w = *cur_block->warps[cur_warp];
    for (int x = 0; x < 4; x++) w.a[cur_lane][x] = a[x];
    w.b[cur_lane][0] = b0;
    w.b[cur_lane][1] = b1;
    w.bar.arrive_and_wait();
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; l++) {
        const int g = l / 4, t = l % 4;
        for (int x = 0; x < 4; x++) {
            const int row = g + 8 * (x & 1), col = 2 * t + 8 * (x >> 1);
            A[row][col] = emu_bf16((uint16_t)(w.a[l][x] & 0xffffu));
            A[row][col + 1] = emu_bf16((uint16_t)(w.a[l][x] >> 16));
        }
        for (int x = 0; x < 2; x++) {
            const int k = 2 * t + 8 * x;
            B[k][g] = emu_bf16((uint16_t)(w.b[l][x] & 0xffffu));
            B[k + 1][g] = emu_bf16((uint16_t)(w.b[l][x] >> 16));
        }
    }
    w.bar.arrive_and_wait();
    const int g = cur_lane / 4, t = cur_lane % 4;
    for (int x = 0; x < 4; x++) {
        const int row = g + 8 * (x >> 1), col = 2 * t + (x & 1);
        float acc = 0.0f;
        for (int k = 0; k < 16; k++) acc += A[row][k] * B[k][col];
        c[x] += acc;
    }
}

int __syncthreads_or(int pred) {
    block_state &b = *cur_block;
    b.bar->arrive_and_wait(); /* every thread has read the previous result */
    if (cur_warp == 0 && cur_lane == 0) b.or_acc.store(0);
    b.bar->arrive_and_wait();
    if (pred) b.or_acc.fetch_or(1);
    b.bar->arrive_and_wait();
    return b.or_acc.load();
}

static void run_kernel(dim3 grid, dim3 block, size_t smem, const std::function<void()> &body) {
    unsigned nt = block.x * block.y * block.z;
    std::vector<unsigned char> sm(smem + 16, 0xFF); /* poison: uninitialised floats read as NaN */
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                std::barrier<> bar((std::ptrdiff_t)nt);
                block_state bs;
                bs.bar = &bar;
                bs.smem = sm.data();
                for (unsigned w = 0; w < (nt + 31) / 32; w++) bs.warps.emplace_back(new warp_state);
                std::vector<std::thread> th;
                for (unsigned t = 0; t < nt; t++)
                    th.emplace_back([&, t]() {
                        cur_block = &bs;
                        cur_lane = (int)(t % 32);
                        cur_warp = (int)(t / 32);
                        threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
                        blockIdx = dim3(bx, by, bz);
                        blockDim = block;
                        gridDim = grid;
                        body();
                    });
                for (auto &x : th) x.join();
            }
}

/* ---- streams ---- */
struct emu_stream {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::function<void()>> q;
    bool stop = false, busy = false;
    std::thread worker;
    /* capture state (host side; changed only by API calls on the host thread(s)) */
    bool capturing = false, invalidated = false;
    cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
    std::thread::id owner;
    std::vector<std::function<void()>> rec; /* recorded work of the capture */
    emu_stream() {
        worker = std::thread([this]() { loop(); });
    }
    void loop() {
        for (;;) {
            std::function<void()> f;
            {
                std::unique_lock<std::mutex> l(m);
                cv.wait(l, [&] { return stop || !q.empty(); });
                if (q.empty()) return;
                f = std::move(q.front());
                q.pop_front();
                busy = true;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(100)); /* widen race windows */
            f();
            {
                std::lock_guard<std::mutex> l(m);
                busy = false;
            }
            cv.notify_all();
        }
    }
    void push(std::function<void()> f) {
        {
            std::lock_guard<std::mutex> l(m);
            if (capturing) { /* recorded for the graph, not run */
                if (!invalidated) rec.push_back(std::move(f));
                return;
            }
            q.push_back(std::move(f));
        }
        cv.notify_all();
    }
    bool is_capturing() {
        std::lock_guard<std::mutex> l(m);
        return capturing;
    }
    void invalidate() {
        std::lock_guard<std::mutex> l(m);
        if (capturing) {
            invalidated = true;
            rec.clear();
        }
    }
    void sync() {
        std::unique_lock<std::mutex> l(m);
        cv.wait(l, [&] { return q.empty() && !busy; });
    }
    ~emu_stream() {
        {
            std::lock_guard<std::mutex> l(m);
            stop = true;
        }
        cv.notify_all();
        worker.join();
    }
};
static std::mutex streams_m;
static std::vector<emu_stream *> streams;
static void sync_all() {
    std::lock_guard<std::mutex> l(streams_m);
    for (auto *s : streams) s->sync();
}
/* The runtime's failure: the call's error also becomes the thread's last error. */
static cudaError_t fail(cudaError_t e) {
    last_error = e;
    return e;
}
/* A call that must wait for every stream (cudaDeviceSynchronize, cudaFree): conflicts
 * with any capture in progress, which it invalidates. */
static cudaError_t device_sync_check() {
    bool bad = false;
    std::lock_guard<std::mutex> l(streams_m);
    for (auto *s : streams)
        if (s->is_capturing()) {
            s->invalidate();
            bad = true;
        }
    return bad ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}
/* A "potentially unsafe" call (cudaMalloc, cudaHostAlloc, synchronous cudaMemcpy): refused
 * while a global capture runs, or a thread-local one of this thread; a relaxed capture
 * allows it. */
static cudaError_t unsafe_call_check() {
    bool bad = false;
    std::lock_guard<std::mutex> l(streams_m);
    for (auto *s : streams) {
        std::lock_guard<std::mutex> sl(s->m);
        if (!s->capturing || s->mode == cudaStreamCaptureModeRelaxed) continue;
        if (s->mode == cudaStreamCaptureModeGlobal || s->owner == std::this_thread::get_id()) {
            s->invalidated = true;
            s->rec.clear();
            bad = true;
        }
    }
    return bad ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}

void emu_launch_impl(dim3 grid, dim3 block, size_t smem, cudaStream_t s, std::function<void()> body) {
    unsigned nt = block.x * block.y * block.z;
    if (nt == 0 || nt > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535 ||
        smem > 48 * 1024) {
        last_error = cudaErrorInvalidConfiguration;
        fprintf(stderr, "EMU: bad launch config\n");
        if (s) s->invalidate(); /* a failed launch invalidates a capture */
        return;
    }
    if (!s) {
        fprintf(stderr, "EMU: launch on the legacy stream\n");
        abort();
    }
    s->push([=]() { run_kernel(grid, block, smem, body); });
}

extern "C" {
cudaError_t emu_func_attributes(void) { return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int *n) {
    if (emu_no_device) {
        *n = 0;
        return cudaErrorInsufficientDriver;
    }
    *n = 1;
    return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int *v) {
    *v = emu_no_device ? 0 : 13000;
    return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int *v) {
    *v = 13000;
    return cudaSuccess;
}
const char *cudaGetErrorString(cudaError_t e) {
    return e == cudaSuccess ? "no error" : e == cudaErrorMemoryAllocation ? "out of memory" : "emulated error";
}
const char *cudaGetErrorName(cudaError_t e) {
    static char b[32];
    snprintf(b, sizeof b, "cudaError%d", (int)e);
    return b;
}
cudaError_t cudaGetLastError(void) {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int d) {
    (void)d;
    memset(p, 0, sizeof *p);
    strcpy(p->name, "Emulated GPU");
    p->totalGlobalMem = (size_t)16 << 30;
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = 4;
    return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned) {
    *s = new emu_stream;
    std::lock_guard<std::mutex> l(streams_m);
    streams.push_back(*s);
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    s->sync();
    {
        std::lock_guard<std::mutex> l(streams_m);
        for (size_t i = 0; i < streams.size(); i++)
            if (streams[i] == s) streams.erase(streams.begin() + (long)i);
    }
    delete s;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    if (s->is_capturing()) { /* illegal during capture; the capture is lost */
        s->invalidate();
        return fail(cudaErrorStreamCaptureUnsupported);
    }
    s->sync();
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) {
    cudaError_t e = device_sync_check();
    if (e != cudaSuccess) return e;
    sync_all();
    return cudaSuccess;
}
}
/* pinned host allocations, to tell them from pageable memory in captured copies */
static std::mutex pinned_m;
static std::map<const char *, size_t> pinned;
static bool is_pinned(const void *p, size_t n) {
    std::lock_guard<std::mutex> l(pinned_m);
    auto it = pinned.upper_bound((const char *)p);
    if (it == pinned.begin()) return false;
    --it;
    return (const char *)p + n <= it->first + it->second;
}
extern "C" {
cudaError_t cudaHostAlloc(void **p, size_t n, unsigned) {
    cudaError_t e = unsafe_call_check();
    if (e != cudaSuccess) return e;
    *p = malloc(n);
    if (!*p) return fail(cudaErrorMemoryAllocation);
    std::lock_guard<std::mutex> l(pinned_m);
    pinned[(const char *)*p] = n;
    return cudaSuccess;
}
cudaError_t cudaFreeHost(void *p) {
    cudaError_t e = device_sync_check(); /* synchronises like cudaFree */
    if (e != cudaSuccess) return e;
    {
        std::lock_guard<std::mutex> l(pinned_m);
        pinned.erase((const char *)p);
    }
    free(p);
    return cudaSuccess;
}
}
struct emu_event {
    std::mutex m;
    std::condition_variable cv;
    uint64_t recorded = 0, done = 0;
    cudaStream_t captured = nullptr; /* last recorded inside a capture of this stream */
    bool timing = true;              /* not cudaEventDisableTiming */
    std::chrono::steady_clock::time_point when; /* the stream reached the last completed record */
};
extern "C" {
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned f) {
    *e = new emu_event;
    (*e)->timing = !(f & cudaEventDisableTiming);
    return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t *e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    if (s->is_capturing()) {
        /* inside a capture the record only orders captured work (no graph node): the
         * event is a captured event until recorded again outside a capture */
        std::lock_guard<std::mutex> l(e->m);
        e->captured = s;
        return cudaSuccess;
    }
    uint64_t g;
    {
        std::lock_guard<std::mutex> l(e->m);
        e->captured = nullptr;
        g = ++e->recorded;
    }
    s->push([e, g]() {
        {
            std::lock_guard<std::mutex> l(e->m);
            if (g > e->done) {
                e->done = g;
                e->when = std::chrono::steady_clock::now();
            }
        }
        e->cv.notify_all();
    });
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    cudaStream_t cs;
    {
        std::lock_guard<std::mutex> l(e->m);
        cs = e->captured;
    }
    if (cs) { /* waiting for an event of a capture: refused, and the capture is lost */
        std::lock_guard<std::mutex> l(streams_m);
        for (auto *s : streams)
            if (s == cs) s->invalidate();
        return fail(cudaErrorCapturedEvent);
    }
    std::unique_lock<std::mutex> l(e->m);
    uint64_t g = e->recorded;
    e->cv.wait(l, [&] { return e->done >= g; });
    return cudaSuccess;
}
/* As the runtime: an event never recorded, or created with cudaEventDisableTiming, is an
 * invalid handle here; one whose last record has not completed is not ready; one last
 * recorded in a capture is refused. "Not ready" also becomes the thread's last error, as
 * callers of the runtime assume (PyTorch clears it after cudaEventQuery). */
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
    if (!ms || !start || !end) return fail(cudaErrorInvalidValue);
    std::chrono::steady_clock::time_point t[2];
    cudaEvent_t ev[2] = {start, end};
    bool ready = true;
    for (int i = 0; i < 2; i++) {
        std::lock_guard<std::mutex> l(ev[i]->m);
        if (!ev[i]->timing || ev[i]->recorded == 0) return fail(cudaErrorInvalidResourceHandle);
        if (ev[i]->captured) return fail(cudaErrorCapturedEvent);
        ready &= ev[i]->done == ev[i]->recorded;
        t[i] = ev[i]->when;
    }
    if (!ready) return fail(cudaErrorNotReady);
    *ms = std::chrono::duration<float, std::milli>(t[1] - t[0]).count();
    return cudaSuccess;
}
}
static std::mutex mem_m;
static std::map<void *, size_t> allocs;
static size_t mem_used;
/* device memory: 16 GiB, or EMU_DEVICE_MEM bytes (read at every call, so a test can
 * shrink the device to provoke out-of-memory at a chosen point) */
static size_t emu_mem_total() {
    const char *e = getenv("EMU_DEVICE_MEM");
    return e && *e ? (size_t)strtoull(e, nullptr, 10) : (size_t)16 << 30;
}
extern "C" {
cudaError_t cudaMalloc(void **p, size_t n) {
    cudaError_t ue = unsafe_call_check(); /* not enqueued, so not captured: "unsafe" */
    if (ue != cudaSuccess) {
        *p = nullptr;
        return ue;
    }
    std::lock_guard<std::mutex> l(mem_m);
    const size_t mem_total = emu_mem_total();
    if (mem_used > mem_total || n > mem_total - mem_used) {
        *p = nullptr;
        last_error = cudaErrorMemoryAllocation;
        return cudaErrorMemoryAllocation;
    }
    *p = aligned_alloc(256, (n + 255) / 256 * 256);
    if (!*p) return cudaErrorMemoryAllocation;
    memset(*p, 0xCD, n); /* garbage, like fresh device memory */
    allocs[*p] = n;
    mem_used += n;
    return cudaSuccess;
}
cudaError_t cudaFree(void *p) {
    cudaError_t se = device_sync_check(); /* cudaFree synchronises the device */
    if (se != cudaSuccess) return se;
    sync_all();
    std::lock_guard<std::mutex> l(mem_m);
    auto it = allocs.find(p);
    if (it == allocs.end()) {
        fprintf(stderr, "EMU: cudaFree of unknown %p\n", p);
        abort();
    }
    mem_used -= it->second;
    allocs.erase(it);
    free(p);
    return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t *fr, size_t *tot) {
    std::lock_guard<std::mutex> l(mem_m);
    const size_t mem_total = emu_mem_total();
    *fr = mem_used < mem_total ? mem_total - mem_used : 0;
    *tot = mem_total;
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, enum cudaMemcpyKind k, cudaStream_t st) {
    /* a captured copy must name memory the graph can address later: pinned or device */
    if (st->is_capturing() && ((k == cudaMemcpyHostToDevice && !is_pinned(s, n)) ||
                               (k == cudaMemcpyDeviceToHost && !is_pinned(d, n)) || k == cudaMemcpyHostToHost)) {
        st->invalidate();
        return fail(cudaErrorStreamCaptureUnsupported);
    }
    st->push([=]() { memmove(d, s, n); });
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, enum cudaMemcpyKind) {
    cudaError_t e = unsafe_call_check(); /* legacy-stream synchronous copy */
    if (e != cudaSuccess) return e;
    sync_all();
    memmove(d, s, n);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st) {
    st->push([=]() { memset(d, v, n); });
    return cudaSuccess;
}
}

/* ---- stream capture and graphs ---- */
typedef std::vector<std::function<void()>> emu_work;
struct emu_graph {
    emu_work nodes;
};
struct emu_graph_exec {
    std::shared_ptr<const emu_work> nodes; /* shared with launches in flight */
};
extern "C" {
cudaError_t cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode mode) {
    if (!s) return fail(cudaErrorStreamCaptureUnsupported); /* not on the legacy stream */
    if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
        mode != cudaStreamCaptureModeRelaxed)
        return fail(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> l(s->m);
    if (s->capturing) return fail(cudaErrorIllegalState);
    s->capturing = true;
    s->invalidated = false;
    s->mode = mode;
    s->owner = std::this_thread::get_id();
    s->rec.clear();
    return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g) {
    if (!s || !g) return fail(cudaErrorInvalidValue);
    *g = nullptr;
    std::lock_guard<std::mutex> l(s->m);
    if (!s->capturing) return fail(cudaErrorIllegalState);
    if (s->mode != cudaStreamCaptureModeRelaxed && s->owner != std::this_thread::get_id())
        return fail(cudaErrorStreamCaptureWrongThread);
    s->capturing = false;
    emu_work rec = std::move(s->rec);
    s->rec.clear();
    if (s->invalidated) {
        s->invalidated = false;
        return fail(cudaErrorStreamCaptureInvalidated);
    }
    *g = new emu_graph{std::move(rec)};
    return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t s, enum cudaStreamCaptureStatus *st) {
    if (!s || !st) return fail(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> l(s->m);
    *st = !s->capturing ? cudaStreamCaptureStatusNone
          : s->invalidated ? cudaStreamCaptureStatusInvalidated
                           : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long flags) {
    if (!e || !g || flags != 0) return fail(cudaErrorInvalidValue);
    *e = new emu_graph_exec{std::make_shared<const emu_work>(g->nodes)};
    return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s) {
    if (!e || !s) return fail(cudaErrorInvalidValue);
    std::shared_ptr<const emu_work> w = e->nodes;
    s->push([w]() { /* captured into a capturing stream: a child graph */
        for (auto &f : *w) f();
    });
    return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) {
    delete e; /* a launch in flight keeps its work list */
    return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) {
    delete g;
    return cudaSuccess;
}
}

/* ---- cuBLASLt ---- */
struct emu_lt {
    int x;
};
struct emu_desc {
    int transa = 0, transb = 0, epi = CUBLASLT_EPILOGUE_DEFAULT, bias_type = -1;
    const void *bias = nullptr;
};
struct emu_layout {
    cudaDataType t;
    uint64_t rows, cols;
    int64_t ld;
    int32_t batch = 1;
    int64_t stride = 0;
};
struct emu_pref {
    uint64_t ws = 0;
    uint32_t align[4] = {256, 256, 256, 256};
};
static size_t tsize(cudaDataType t) { return t == CUDA_R_32F ? 4 : 2; }
static float ldv(const void *p, cudaDataType t, int64_t i) {
    if (t == CUDA_R_32F) return ((const float *)p)[i];
    uint16_t h = ((const uint16_t *)p)[i];
    if (t == CUDA_R_16BF) {
        uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    return __half2float(__ushort_as_half(h));
}
/* Stores round as the kernels do (pf_cuda_common.cuh: nearest even, NaN kept), which is
 * what cuBLASLt's 16-bit outputs do. */
static void stv(void *p, cudaDataType t, int64_t i, float v) {
    if (t == CUDA_R_32F)
        ((float *)p)[i] = v;
    else if (t == CUDA_R_16BF)
        ((uint16_t *)p)[i] = pf_cu_f32_to_bf16(v);
    else
        ((uint16_t *)p)[i] = pf_cu_f32_to_f16(v);
}
extern "C" {
const char *cublasLtGetStatusName(cublasStatus_t s) {
    static char b[32];
    snprintf(b, sizeof b, "STATUS_%d", (int)s);
    return b;
}
const char *cublasLtGetStatusString(cublasStatus_t s) { return s ? "emulated failure" : "success"; }
cublasStatus_t cublasLtCreate(cublasLtHandle_t *h) {
    *h = new emu_lt;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) {
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, cublasComputeType_t ct, cudaDataType st) {
    if (ct != CUBLAS_COMPUTE_32F || st != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    *d = new emu_desc;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
    delete d;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a, const void *v,
                                              size_t n) {
    switch (a) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        d->transa = *(const int32_t *)v;
        break;
    case CUBLASLT_MATMUL_DESC_TRANSB:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        d->transb = *(const int32_t *)v;
        break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        d->epi = *(const int32_t *)v;
        break;
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE:
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        d->bias_type = *(const int32_t *)v;
        break;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
        if (n != sizeof(void *)) return CUBLAS_STATUS_INVALID_VALUE;
        d->bias = *(const void *const *)v;
        break;
    default: return CUBLAS_STATUS_INVALID_VALUE;
    }
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, cudaDataType t, uint64_t rows, uint64_t cols,
                                          int64_t ld) {
    if (ld < (int64_t)rows || rows == 0 || cols == 0) return CUBLAS_STATUS_INVALID_VALUE;
    *l = new emu_layout;
    (*l)->t = t;
    (*l)->rows = rows;
    (*l)->cols = cols;
    (*l)->ld = ld;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) {
    delete l;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t a,
                                                const void *v, size_t n) {
    if (a == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT) {
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        l->batch = *(const int32_t *)v;
    } else if (a == CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET) {
        if (n != 8) return CUBLAS_STATUS_INVALID_VALUE;
        l->stride = *(const int64_t *)v;
    } else
        return CUBLAS_STATUS_INVALID_VALUE;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) {
    *p = new emu_pref;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
    delete p;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p,
                                                    cublasLtMatmulPreferenceAttributes_t a, const void *v, size_t n) {
    if (a == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES) {
        if (n != 8) return CUBLAS_STATUS_INVALID_VALUE;
        p->ws = *(const uint64_t *)v;
    } else if (a >= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES && a <= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES) {
        if (n != 4) return CUBLAS_STATUS_INVALID_VALUE;
        p->align[a - 5] = *(const uint32_t *)v;
    } else
        return CUBLAS_STATUS_INVALID_VALUE;
    return CUBLAS_STATUS_SUCCESS;
}
}
/* shapes as cuBLASLt checks them: op(A) m x k, op(B) k x n, C and D m x n */
static cublasStatus_t check(const emu_desc *d, const emu_layout *a, const emu_layout *b, const emu_layout *c,
                            const emu_layout *dd, uint64_t *m, uint64_t *n, uint64_t *k) {
    *m = d->transa ? a->cols : a->rows;
    *k = d->transa ? a->rows : a->cols;
    uint64_t kb = d->transb ? b->cols : b->rows;
    *n = d->transb ? b->rows : b->cols;
    if (kb != *k || c->rows != *m || c->cols != *n || dd->rows != *m || dd->cols != *n) {
        fprintf(stderr, "EMU: Lt shape mismatch\n");
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (a->batch != dd->batch || b->batch != dd->batch || c->batch != dd->batch) {
        fprintf(stderr, "EMU: Lt batch mismatch\n");
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (a->t != b->t || c->t != dd->t) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (a->t == CUDA_R_32F && dd->t != CUDA_R_32F) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (a->t != CUDA_R_32F && dd->t != CUDA_R_32F && dd->t != a->t) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (d->epi != CUBLASLT_EPILOGUE_DEFAULT && d->epi != CUBLASLT_EPILOGUE_BIAS && d->epi != CUBLASLT_EPILOGUE_GELU &&
        d->epi != CUBLASLT_EPILOGUE_GELU_BIAS)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    const bool has_bias = d->epi == CUBLASLT_EPILOGUE_BIAS || d->epi == CUBLASLT_EPILOGUE_GELU_BIAS;
    if (has_bias && d->bias_type != (int)dd->t) return CUBLAS_STATUS_NOT_SUPPORTED;
    return CUBLAS_STATUS_SUCCESS;
}
extern "C" {
cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a,
                                              cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c,
                                              cublasLtMatrixLayout_t dd, cublasLtMatmulPreference_t p, int req,
                                              cublasLtMatmulHeuristicResult_t *res, int *found) {
    uint64_t m, n, k;
    *found = 0;
    cublasStatus_t s = check(d, a, b, c, dd, &m, &n, &k);
    if (s) return s;
    if (req < 1) return CUBLAS_STATUS_INVALID_VALUE;
    /* like the tensor-core kernels: 16-bit operands need 16-byte aligned leading dims and pointers */
    if (a->t != CUDA_R_32F && ((a->ld * 2) % 16 || (b->ld * 2) % 16 || p->align[0] < 16 || p->align[1] < 16))
        return CUBLAS_STATUS_NOT_SUPPORTED;
    memset(res, 0, sizeof *res);
    res->workspaceSize = p->ws < 1024 ? p->ws : 1024;
    res->state = CUBLAS_STATUS_SUCCESS;
    *found = 1;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmul(cublasLtHandle_t, cublasLtMatmulDesc_t d, const void *alpha, const void *A,
                              cublasLtMatrixLayout_t la, const void *B, cublasLtMatrixLayout_t lb, const void *beta,
                              const void *C, cublasLtMatrixLayout_t lc, void *D, cublasLtMatrixLayout_t ld,
                              const cublasLtMatmulAlgo_t *, void *ws, size_t wss, cudaStream_t st) {
    uint64_t m, n, k;
    cublasStatus_t s = check(d, la, lb, lc, ld, &m, &n, &k);
    if (s) return s;
    if (wss && !ws) return CUBLAS_STATUS_INVALID_VALUE;
    emu_desc dc = *d;
    emu_layout a = *la, b = *lb, c = *lc, o = *ld;
    float al = *(const float *)alpha, be = *(const float *)beta;
    st->push([=]() {
        for (int32_t bt = 0; bt < o.batch; bt++)
            for (uint64_t j = 0; j < n; j++)
                for (uint64_t i = 0; i < m; i++) {
                    float acc = 0.0f;
                    for (uint64_t p = 0; p < k; p++) {
                        int64_t ia = dc.transa ? (int64_t)(p + i * a.ld) : (int64_t)(i + p * a.ld);
                        int64_t ib = dc.transb ? (int64_t)(j + p * b.ld) : (int64_t)(p + j * b.ld);
                        acc += ldv(A, a.t, bt * a.stride + ia) * ldv(B, b.t, bt * b.stride + ib);
                    }
                    float v = al * acc;
                    if (be != 0.0f) v += be * ldv(C, c.t, bt * c.stride + (int64_t)(i + j * c.ld));
                    if (dc.epi == CUBLASLT_EPILOGUE_BIAS || dc.epi == CUBLASLT_EPILOGUE_GELU_BIAS)
                        v += ldv(dc.bias, (cudaDataType)dc.bias_type, (int64_t)i);
                    if (dc.epi == CUBLASLT_EPILOGUE_GELU || dc.epi == CUBLASLT_EPILOGUE_GELU_BIAS) /* tanh form */
                        v = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
                    stv(D, o.t, bt * o.stride + (int64_t)(i + j * o.ld), v);
                }
    });
    return CUBLAS_STATUS_SUCCESS;
}
}
