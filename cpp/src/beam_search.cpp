// The batch driver, workspace plan and C entry points of the beam search.
//
// As for the loss: one template for float and double, sequences shared out
// to OpenMP threads longest first, each searched start to finish by one
// thread in its own scratch, so results do not depend on the thread count.
// A failing scorer stops every thread at its next frame.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>

#include "batch_layout.hpp"
#include "batch_order.hpp"
#include "beam_search.hpp"
#include "fastctc/ctc.h"
#include "parallel.hpp"
#include "sequence.hpp"
#include "validate.hpp"

namespace fastctc {
namespace {

using namespace FASTCTC_ISA;  // the kernels' headers, compiled at the baseline level

constexpr int32_t kDefaultBeamWidth = 100;

struct BeamLayout {
    BatchLayout batch;
    uint64_t table_size = 0;
    // Offsets within a thread's region.
    size_t nodes = 0, table = 0, beam = 0, next_beam = 0, candidates = 0, log_probs = 0, classes = 0, prefix = 0,
           lm_rows = 0, free_rows = 0;
};

// The options with their defaults filled in; false when they are invalid.
bool resolve_config(const fastctc_decoder_options &options, BeamConfig *config) {
    BeamConfig c;
    c.beam_width = options.beam_width > 0 ? options.beam_width : kDefaultBeamWidth;
    c.top_paths = options.top_paths > 0 ? options.top_paths : 1;
    c.prune = options.use_prune_logp != 0;
    c.prune_logp = options.prune_logp;
    c.scorer = options.scorer;
    if (c.top_paths > c.beam_width || (c.prune && std::isnan(c.prune_logp))) return false;
    *config = c;
    return true;
}

fastctc_status plan_beam_workspace(const fastctc_batch &batch, const BeamConfig &config, int threads,
                                   BeamLayout *layout) {
    int64_t frames = 0;
    for (int64_t n = 0; n < batch.batch_size; ++n) frames = std::max(frames, batch.input_lengths[n]);
    const uint64_t width = uint64_t(config.beam_width), classes = uint64_t(batch.num_classes);
    uint64_t nodes = 0;  // 1 + width * frames, which int32_t node ids must address
    if (!checked_mul<uint64_t>(width, uint64_t(frames), &nodes) || nodes >= uint64_t(INT32_MAX))
        return FASTCTC_STATUS_SIZE_OVERFLOW;
    nodes += 1;
    layout->table_size = PrefixTrie::table_size_for(nodes);

    ByteCounter region;
    layout->nodes = region.reserve(nodes, sizeof(PrefixNode));
    layout->table = region.reserve(layout->table_size, sizeof(int32_t));
    layout->beam = region.reserve(width, sizeof(BeamEntry));
    layout->next_beam = region.reserve(width, sizeof(BeamEntry));
    layout->candidates = region.reserve(width, sizeof(Candidate));
    layout->log_probs = region.reserve(classes, sizeof(double));
    layout->classes = region.reserve(classes, sizeof(int32_t));
    layout->prefix = region.reserve(uint64_t(frames), sizeof(int32_t));
    if (config.scorer.score) {
        uint64_t rows = 0;
        if (!checked_mul<uint64_t>(width, classes, &rows)) return FASTCTC_STATUS_SIZE_OVERFLOW;
        layout->lm_rows = region.reserve(rows, sizeof(double));
        layout->free_rows = region.reserve(width, sizeof(int32_t));
    }
    return plan_batch_layout(batch.batch_size, region, threads, &layout->batch);
}

BeamScratch thread_scratch(void *base, const BeamLayout &layout, const BeamConfig &config, int thread) {
    void *region = layout.batch.region(base, thread);
    const bool scorer = config.scorer.score != nullptr;
    return BeamScratch{
        at_offset<PrefixNode>(region, layout.nodes),
        at_offset<int32_t>(region, layout.table),
        layout.table_size,
        at_offset<BeamEntry>(region, layout.beam),
        at_offset<BeamEntry>(region, layout.next_beam),
        at_offset<Candidate>(region, layout.candidates),
        at_offset<double>(region, layout.log_probs),
        at_offset<int32_t>(region, layout.classes),
        at_offset<int32_t>(region, layout.prefix),
        scorer ? at_offset<double>(region, layout.lm_rows) : nullptr,
        scorer ? at_offset<int32_t>(region, layout.free_rows) : nullptr,
    };
}

template <typename Real>
fastctc_status beam_search(const fastctc_batch *batch, const fastctc_options *options,
                           const fastctc_decoder_options *decoder_options, const Real *inputs,
                           const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
                           int64_t *token_counts, Real *log_probs, Real *scores, void *workspace,
                           size_t workspace_bytes) {
    fastctc_status status = validate_inputs(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    BeamConfig config;
    if (!decoder_options || !resolve_config(*decoder_options, &config)) return FASTCTC_STATUS_INVALID_VALUE;
    const int64_t size = batch->batch_size, max_time = batch->max_time;
    if (size == 0) return FASTCTC_STATUS_SUCCESS;
    if (!input_strides || !token_counts || !log_probs || !scores ||
        (max_time > 0 && (!inputs || !tokens || !token_frames)))
        return FASTCTC_STATUS_INVALID_VALUE;

    const int threads = resolve_num_threads(options->num_threads, size);
    BeamLayout layout;
    status = plan_beam_workspace(*batch, config, threads, &layout);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    if (!workspace || workspace_bytes < layout.batch.total_bytes) return FASTCTC_STATUS_WORKSPACE_TOO_SMALL;

    void *base = workspace_base(workspace);
    int64_t *order = at_offset<int64_t>(base, layout.batch.order);
    order_by_work(size, order, [&](int64_t n) { return batch->input_lengths[n]; });

    std::atomic<bool> failed{false};
    const int64_t paths = config.top_paths;
    parallel_for_dynamic(threads, size, [&](int64_t i, int thread) {
        const int64_t n = order[i];
        const Sequence<Real> seq = read_only_sequence(inputs, input_strides, n, batch->input_lengths[n],
                                                      batch->num_classes, ExtendedLabel(nullptr, 0, options->blank),
                                                      options->log_probs != 0);
        const int64_t first = n * paths;  // this sequence's first hypothesis
        const BeamOut<Real> out{tokens + first * max_time, token_frames + first * max_time, token_counts + first,
                                log_probs + first, scores + first, max_time};
        PrefixBeamSearch<Real> search(seq, config, thread_scratch(base, layout, config, thread));
        if (search.run(failed, out) == BeamStatus::kScorerFailed) failed.store(true, std::memory_order_relaxed);
    });
    return failed.load() ? FASTCTC_STATUS_SCORER_FAILED : FASTCTC_STATUS_SUCCESS;
}

}  // namespace
}  // namespace fastctc

extern "C" {

fastctc_status fastctc_beam_search_workspace_size(const fastctc_batch *batch, const fastctc_options *options,
                                                  const fastctc_decoder_options *decoder_options, size_t *bytes) {
    using namespace fastctc;
    if (!bytes) return FASTCTC_STATUS_INVALID_VALUE;
    fastctc_status status = validate_inputs(batch, options);
    if (status != FASTCTC_STATUS_SUCCESS) return status;
    BeamConfig config;
    if (!decoder_options || !resolve_config(*decoder_options, &config)) return FASTCTC_STATUS_INVALID_VALUE;
    BeamLayout layout;
    status = plan_beam_workspace(*batch, config, resolve_num_threads(options->num_threads, batch->batch_size),
                                 &layout);
    if (status == FASTCTC_STATUS_SUCCESS) *bytes = layout.batch.total_bytes;
    return status;
}

fastctc_status fastctc_beam_search_f32(const fastctc_batch *batch, const fastctc_options *options,
                                       const fastctc_decoder_options *decoder_options, const float *inputs,
                                       const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
                                       int64_t *token_counts, float *log_probs, float *scores, void *workspace,
                                       size_t workspace_bytes) {
    return fastctc::beam_search(batch, options, decoder_options, inputs, input_strides, tokens, token_frames,
                                token_counts, log_probs, scores, workspace, workspace_bytes);
}

fastctc_status fastctc_beam_search_f64(const fastctc_batch *batch, const fastctc_options *options,
                                       const fastctc_decoder_options *decoder_options, const double *inputs,
                                       const int64_t input_strides[3], int32_t *tokens, int64_t *token_frames,
                                       int64_t *token_counts, double *log_probs, double *scores, void *workspace,
                                       size_t workspace_bytes) {
    return fastctc::beam_search(batch, options, decoder_options, inputs, input_strides, tokens, token_frames,
                                token_counts, log_probs, scores, workspace, workspace_bytes);
}

}  // extern "C"
