#include "workspace.hpp"

#include <cstdint>

#include "byte_counter.hpp"
#include "checked_math.hpp"

namespace fastctc {
namespace {

constexpr size_t kAlignment = 64;  // a cache line; also enough for any SIMD load

struct Extents {
    int64_t frames = 0;   // longest input
    int64_t states = 1;   // longest extended label
    int64_t lattice = 0;  // largest frames x states
};

bool batch_extents(const fastctc_batch &batch, Extents *out) {
    Extents e;
    for (int64_t n = 0; n < batch.batch_size; ++n) {
        int64_t states = 0, lattice = 0;
        if (!checked_mul<int64_t>(batch.label_lengths[n], 2, &states) ||
            !checked_add<int64_t>(states, 1, &states) ||
            !checked_mul<int64_t>(states, batch.input_lengths[n], &lattice))
            return false;
        if (batch.input_lengths[n] > e.frames) e.frames = batch.input_lengths[n];
        if (states > e.states) e.states = states;
        if (lattice > e.lattice) e.lattice = lattice;
    }
    *out = e;
    return true;
}

}  // namespace

fastctc_status plan_workspace(const fastctc_batch &batch, int num_threads, bool with_grad,
                              WorkspaceLayout *layout) {
    Extents e;
    if (!batch_extents(batch, &e)) return FASTCTC_STATUS_SIZE_OVERFLOW;
    const uint64_t distinct_classes = uint64_t(e.states + 1) / 2;  // blank + |l| labels

    WorkspaceLayout l;
    l.num_threads = num_threads;

    ByteCounter per_thread(kAlignment);
    if (with_grad) {
        l.alpha = per_thread.reserve(uint64_t(e.lattice), sizeof(double));
        l.beta = per_thread.reserve(uint64_t(e.states), sizeof(double));
        l.log_norm = per_thread.reserve(uint64_t(e.frames), sizeof(double));
        l.occupancy = per_thread.reserve(distinct_classes, sizeof(double));
        l.state_slot = per_thread.reserve(uint64_t(e.states), sizeof(int32_t));
        l.slot_class = per_thread.reserve(distinct_classes, sizeof(int32_t));
    } else {
        l.alpha = per_thread.reserve(2 * uint64_t(e.states), sizeof(double));  // two rolling rows
    }
    l.scratch_stride = per_thread.size();

    ByteCounter whole(kAlignment);
    l.order = whole.reserve(uint64_t(batch.batch_size), sizeof(int64_t));
    l.label_offsets = whole.reserve(uint64_t(batch.batch_size), sizeof(int64_t));
    l.scratch = whole.size();
    size_t scratch_bytes = 0;
    if (!checked_mul<size_t>(l.scratch_stride, size_t(num_threads), &scratch_bytes))
        return FASTCTC_STATUS_SIZE_OVERFLOW;
    whole.add(scratch_bytes);
    whole.add(kAlignment - 1);  // slack to align the caller's pointer
    if (per_thread.overflowed() || whole.overflowed()) return FASTCTC_STATUS_SIZE_OVERFLOW;
    l.total_bytes = whole.size();
    *layout = l;
    return FASTCTC_STATUS_SUCCESS;
}

void *workspace_base(void *workspace) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(workspace);
    return reinterpret_cast<void *>((address + kAlignment - 1) / kAlignment * kAlignment);
}

Scratch thread_scratch(void *base, const WorkspaceLayout &layout, int thread) {
    char *region = static_cast<char *>(base) + layout.scratch + size_t(thread) * layout.scratch_stride;
    return Scratch{
        reinterpret_cast<double *>(region + layout.alpha),
        reinterpret_cast<double *>(region + layout.beta),
        reinterpret_cast<double *>(region + layout.log_norm),
        reinterpret_cast<double *>(region + layout.occupancy),
        reinterpret_cast<int32_t *>(region + layout.state_slot),
        reinterpret_cast<int32_t *>(region + layout.slot_class),
    };
}

}  // namespace fastctc
