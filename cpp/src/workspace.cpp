#include "workspace.hpp"

#include <cstdint>

#include "byte_counter.hpp"
#include "checked_math.hpp"

namespace fastctc {

bool batch_extents(const fastctc_batch &batch, Extents *out) {
    Extents e;
    for (int64_t n = 0; n < batch.batch_size; ++n) {
        const uint64_t frames = uint64_t(batch.input_lengths[n]), labels = uint64_t(batch.label_lengths[n]);
        uint64_t states = 0, row = 0, lattice = 0, emission = 0, frame_scales = 0;
        if (!checked_mul<uint64_t>(labels, 2, &states) || !checked_add<uint64_t>(states, 1, &states) ||
            !checked_add<uint64_t>(states, labels / kBlockLabels + 3, &row) || !checked_mul(row, frames, &lattice) ||
            !checked_mul(labels + 1, frames, &emission) ||
            !checked_mul(uint64_t(frame_scale_count(int64_t(labels))), frames, &frame_scales))
            return false;
        if (frames > e.frames) e.frames = frames;
        if (labels > e.labels) e.labels = labels;
        if (states > e.states) e.states = states;
        if (row > e.row) e.row = row;
        if (lattice > e.lattice) e.lattice = lattice;
        if (emission > e.emission) e.emission = emission;
        if (frame_scales > e.frame_scales) e.frame_scales = frame_scales;
        if (groupable(int64_t(frames), int64_t(labels))) {
            ++e.grouped;
            if (frames > e.group_frames) e.group_frames = frames;
            if (labels > e.group_labels) e.group_labels = labels;
        }
    }
    *out = e;
    return true;
}

namespace {

// The regions of one scratch region (see scratch.hpp for what each holds).
ScratchRegions plan_scratch(const Extents &e, bool with_grad, bool shared, ByteCounter *bytes) {
    // With a gradient or a shared sequence: every frame's emissions.  A row per
    // frame with a gradient; the loss alone rolls its rows.
    const bool all_frames = with_grad || shared;
    ScratchRegions r;
    r.alpha = bytes->reserve(with_grad ? e.lattice : shared ? 0 : 2 * e.row, sizeof(double));
    r.beta = bytes->reserve((shared ? 4 : 2) * e.row, sizeof(double));
    r.forward_scales = bytes->reserve(with_grad ? 0 : e.frame_scales, sizeof(double));
    r.backward_scales = bytes->reserve(with_grad || !shared ? 0 : e.frame_scales, sizeof(double));
    r.emissions = bytes->reserve(all_frames ? e.emission : 2 * (e.labels + 1), sizeof(double));
    r.log_scale = bytes->reserve(all_frames ? e.frames : 0, sizeof(double));
    r.skip = bytes->reserve(e.labels, sizeof(double));
    r.klass = bytes->reserve(with_grad ? e.labels + 1 : 0, sizeof(int32_t));
    r.source = bytes->reserve(with_grad ? e.labels + 1 : 0, sizeof(int32_t));
    r.repeats = bytes->reserve(with_grad ? e.labels : 0, sizeof(int32_t));
    r.repeat_slots = bytes->reserve(with_grad ? e.labels : 0, sizeof(int32_t));
    return r;
}

// Wide groups in two vector registers are for the gradient, when a wide group's
// scratch is at most kWideGroupBytes.  A group's gradient path keeps every
// frame's rows and emissions and reads them back in its backward pass; past a
// core's second-level cache, eight lanes in two registers gained nothing on four
// (T=150 L=40: 1.2 MB a wide group, the same time; T=50 L=10 var: about 120 KB,
// 0-4% less time), and the loss alone, with inputs and labels of different
// lengths, lost more to the lanes a group pads than it saved (T=150 L=40 var: 9%
// more instructions; BENCHMARKS.md).  In one register (AVX-512:
// eight_lane_kernels()) they paid on both: with the gradient 2-7% less time on
// T=150 L=40, 1.2 MB a group (they may take up to kOneVectorWideGroupBytes), the
// loss alone 5-8% less on T=150 L=40, fixed or var, and on T=50 L=10 var.
constexpr size_t kWideGroupBytes = 512 * 1024, kOneVectorWideGroupBytes = 4 * 1024 * 1024;

// How many of a batch's `grouped` groupable() sequences go in wide groups: as
// many groups of kWideGroup as give every thread the same number (the rest go
// four at a time, which balances better).
uint64_t wide_grouped(uint64_t grouped, int num_threads) {
    const uint64_t round = uint64_t(kWideGroup) * uint64_t(num_threads);
    return grouped / round * round;
}

// The regions of a group of `lanes` sequences (see GroupScratch), in the scratch
// region bytes counts; false when a size overflows.
bool plan_group(const Extents &e, bool with_grad, uint64_t lanes, ByteCounter *bytes, GroupRegions *out) {
    const uint64_t labels = e.group_labels,
                   row = uint64_t(lattice_row_size(int64_t(labels))), lane_row = lanes * row,
                   lane_emissions = lanes * (labels + 1);
    uint64_t lattice = 0, emissions = 0, log_scales = 0;
    if (!checked_mul(lane_row, with_grad ? e.group_frames : 2, &lattice) ||
        !checked_mul(lane_emissions, with_grad ? e.group_frames : 1, &emissions) ||
        !checked_mul(lanes, with_grad ? e.group_frames : 0, &log_scales))
        return false;
    GroupRegions r;
    r.alpha = bytes->reserve(lattice, sizeof(double));
    r.beta = bytes->reserve(with_grad ? 2 * lane_row : 0, sizeof(double));
    r.emissions = bytes->reserve(emissions, sizeof(double));
    r.log_scale = bytes->reserve(log_scales, sizeof(double));
    r.skip = bytes->reserve(lanes * labels, sizeof(double));
    r.products = bytes->reserve(with_grad ? lanes * (2 * labels + 1) : 0, sizeof(double));
    r.row = bytes->reserve(row, sizeof(double));
    r.frame_emissions = bytes->reserve(lane_emissions, sizeof(double));
    r.klass = bytes->reserve(with_grad ? lanes * (labels + 1) : 0, sizeof(int32_t));
    r.source = bytes->reserve(with_grad ? lanes * (labels + 1) : 0, sizeof(int32_t));
    r.repeats = bytes->reserve(with_grad ? lanes * labels : 0, sizeof(int32_t));
    r.repeat_slots = bytes->reserve(with_grad ? lanes * labels : 0, sizeof(int32_t));
    *out = r;
    return true;
}

// The layout of a batch with extents e; false when a size overflows.
bool plan_layout(const fastctc_batch &batch, const Extents &e, int num_threads, bool with_grad,
                 bool eight_lane_vectors, WorkspaceLayout *layout) {
    WorkspaceLayout l;
    l.num_threads = num_threads;
    l.shared_sequence = uses_shared_sequence(batch.batch_size, num_threads);
    l.with_grad = with_grad;

    ByteCounter one_scratch, one_group;
    l.regions = plan_scratch(e, with_grad, l.shared_sequence, &one_scratch);
    // Groups, when there are enough for every thread to take one: a group is
    // faster than its four sequences in turn, not than four threads.
    l.grouping = !l.shared_sequence && e.grouped >= uint64_t(kGroupSize) * uint64_t(num_threads);
    if (l.grouping) {
        // (A wide group whose size overflows is just not planned: four lanes may fit.)
        ByteCounter wide;
        GroupRegions wide_regions;
        const size_t largest = eight_lane_vectors ? kOneVectorWideGroupBytes : kWideGroupBytes;
        const bool fits = (with_grad || eight_lane_vectors) &&
                          plan_group(e, with_grad, kWideGroup, &wide, &wide_regions) && !wide.overflowed() &&
                          wide.size() <= largest;
        l.wide_grouped = fits ? int64_t(wide_grouped(e.grouped, num_threads)) : 0;
        if (l.wide_grouped > 0) {  // the plan just made
            l.group_lanes = kWideGroup;
            one_group = wide;
            l.group_regions = wide_regions;
        } else if (!plan_group(e, with_grad, kGroupSize, &one_group, &l.group_regions)) {
            return false;
        }
    }
    l.longest_label = int64_t(e.labels);
    l.group_labels = int64_t(e.group_labels);
    const size_t scratch_bytes = one_scratch.size() > one_group.size() ? one_scratch.size() : one_group.size();
    ByteCounter one_buffers;
    const uint64_t classes = uint64_t(batch.num_classes);
    // The class table: one a lane for a group (grouped_lattice.hpp).
    const uint64_t tables = l.grouping ? uint64_t(l.group_lanes) : 1;
    one_buffers.reserve(uses_class_table(int64_t(classes), int64_t(e.labels)) ? classes * tables : 0,
                        sizeof(double));
    // A frame's exponentials (read_frame()), of the inputs' type: room for double.  Not
    // in the class table's memory: a group's sequences may read frames either way, and
    // float stores there could be moved past the table's double loads (strict aliasing).
    l.frame_exps = one_buffers.reserve(classes, sizeof(double));
    l.products = one_buffers.reserve(e.states, sizeof(double));
    l.by_slot = one_buffers.reserve(with_grad ? e.labels + 1 : 0, sizeof(double));

    const size_t scratch_regions = l.shared_sequence ? 1 : size_t(num_threads);
    l.scratch_stride = l.shared_sequence ? 0 : scratch_bytes;
    l.buffers_stride = one_buffers.size();

    ByteCounter whole(kAlignment);
    l.order = whole.reserve(uint64_t(batch.batch_size), sizeof(int64_t));
    l.label_offsets = whole.reserve(uint64_t(batch.batch_size), sizeof(int64_t));
    l.unit_starts = whole.reserve(uint64_t(batch.batch_size), sizeof(int64_t));
    l.scratch = whole.reserve(scratch_regions, scratch_bytes);
    l.buffers = whole.reserve(uint64_t(num_threads), one_buffers.size());
    whole.add(kAlignment - 1);  // slack to align the caller's pointer
    if (one_scratch.overflowed() || one_group.overflowed() || one_buffers.overflowed() || whole.overflowed())
        return false;
    l.total_bytes = whole.size();
    *layout = l;
    return true;
}

}  // namespace

bool uses_shared_sequence(int64_t batch_size, int num_threads) { return batch_size == 1 && num_threads > 1; }

fastctc_status plan_workspace(const fastctc_batch &batch, const Extents &e, int num_threads, bool with_grad,
                              bool eight_lane_vectors, WorkspaceLayout *layout) {
    WorkspaceLayout l, alone;
    if (!plan_layout(batch, e, num_threads, with_grad, eight_lane_vectors, &l)) return FASTCTC_STATUS_SIZE_OVERFLOW;
    // A workspace for the loss with its gradient also serves the loss alone of
    // the same batch (a call with no frames may pass grad NULL), whose
    // frames' scales can need more on a few frames.
    if (with_grad) {
        if (!plan_layout(batch, e, num_threads, /*with_grad=*/false, eight_lane_vectors, &alone))
            return FASTCTC_STATUS_SIZE_OVERFLOW;
        if (alone.total_bytes > l.total_bytes) l.total_bytes = alone.total_bytes;
    }
    *layout = l;
    return FASTCTC_STATUS_SUCCESS;
}

ThreadScratch thread_scratch(void *base, const WorkspaceLayout &layout, int thread) {
    char *region = static_cast<char *>(base) + layout.scratch + size_t(thread) * layout.scratch_stride;
    char *buffers = static_cast<char *>(base) + layout.buffers + size_t(thread) * layout.buffers_stride;
    const ScratchRegions &r = layout.regions;
    auto doubles = [&](size_t offset) { return reinterpret_cast<double *>(region + offset); };
    auto ints = [&](size_t offset) { return reinterpret_cast<int32_t *>(region + offset); };

    ThreadScratch s;
    s.lattice.alpha = doubles(r.alpha);
    s.lattice.beta = doubles(r.beta);
    s.lattice.forward_scales = doubles(r.forward_scales);
    s.lattice.backward_scales = doubles(r.backward_scales);
    s.lattice.emissions = doubles(r.emissions);
    s.lattice.log_scale = doubles(r.log_scale);
    s.lattice.skip = doubles(r.skip);
    s.lattice.slots = LabelSlots{ints(r.klass), ints(r.source), ints(r.repeats), ints(r.repeat_slots), 0, 0};
    const GroupRegions &g = layout.group_regions;
    s.group.alpha = doubles(g.alpha);
    s.group.beta = doubles(g.beta);
    s.group.emissions = doubles(g.emissions);
    s.group.log_scale = doubles(g.log_scale);
    s.group.skip = doubles(g.skip);
    s.group.products = doubles(g.products);
    s.group.row = doubles(g.row);
    s.group.frame_emissions = doubles(g.frame_emissions);
    const int64_t labels = layout.group_labels;
    for (int w = 0; w < layout.group_lanes; ++w)
        s.group.slots[w] = LabelSlots{ints(g.klass) + w * (labels + 1), ints(g.source) + w * (labels + 1),
                                      ints(g.repeats) + w * labels, ints(g.repeat_slots) + w * labels, 0, 0};
    s.buffers.class_exps = reinterpret_cast<double *>(buffers);
    s.buffers.frame_exps = buffers + layout.frame_exps;
    s.buffers.products = reinterpret_cast<double *>(buffers + layout.products);
    s.buffers.by_slot = reinterpret_cast<double *>(buffers + layout.by_slot);
    return s;
}

}  // namespace fastctc
