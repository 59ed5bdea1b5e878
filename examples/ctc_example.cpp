// The CTC loss and its gradient for a batch of two sequences, through the C
// API of fastctc (fastctc/ctc.h), with inputs whose answers are known exactly.
//
// Every logit is 0, so each frame gives each of the C = 3 classes probability
// 1/3, and a label's probability is (its number of alignments) / 3^T:
//   sequence 0: label "1" in T = 2 frames: 3 alignments (1 1, _ 1, 1 _),
//               loss = -ln(3/9) = ln 3; the third frame lies past its length.
//   sequence 1: label "1 1" in T = 3 frames: one alignment (1 _ 1), since a
//               repeated label needs a blank between, so loss = 3 ln 3.
// The gradient with respect to the logits is softmax - occupancy, where the
// occupancy of class k at frame t is the share of alignments emitting k there.
#include <fastctc/ctc.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

constexpr int64_t T = 3, N = 2, C = 3;  // frames, sequences, classes (0 is the blank)

bool check(fastctc_status status, const char *what) {
    if (status != FASTCTC_STATUS_SUCCESS) std::fprintf(stderr, "%s: %s\n", what, fastctc_status_string(status));
    return status == FASTCTC_STATUS_SUCCESS;
}

}  // namespace

int main() {
    std::printf("fastctc %s, SIMD level %s\n", fastctc_version(), fastctc_simd_level());

    // "TNC" row-major: inputs[t * N * C + n * C + c], element strides {N * C, C, 1}.
    const std::vector<double> logits(T * N * C, 0.0);
    const int64_t strides[3] = {N * C, C, 1};
    const int64_t input_lengths[N] = {2, 3};
    const int64_t label_lengths[N] = {1, 2};
    const int32_t labels[] = {1, /* | */ 1, 1};  // concatenated

    const fastctc_batch batch = {T, N, C, input_lengths, label_lengths, labels};
    fastctc_options options = {};  // zero-initialised: blank 0, logits in, default threads

    // The caller owns all memory, the workspace included: ask its size first.
    size_t workspace_bytes = 0;
    if (!check(fastctc_workspace_size(&batch, &options, /*with_grad=*/1, &workspace_bytes), "workspace size")) return 1;
    std::vector<unsigned char> workspace(workspace_bytes);

    std::vector<double> losses(N), grad(T * N * C);
    if (!check(fastctc_ctc_loss_f64(&batch, &options, logits.data(), strides, losses.data(), grad.data(), strides,
                                    /*grad_scale=*/nullptr, workspace.data(), workspace.size()),
               "ctc loss")) {
        return 1;
    }

    const double third = 1.0 / 3.0;
    const double expected_losses[N] = {std::log(3.0), 3.0 * std::log(3.0)};
    const double expected_grad[T][N][C] = {
        {{0.0, -third, third}, {third, -2 * third, third}},  // t = 0
        {{0.0, -third, third}, {-2 * third, third, third}},  // t = 1
        {{0.0, 0.0, 0.0}, {third, -2 * third, third}},       // t = 2: past sequence 0's length
    };

    double worst = 0.0;
    for (int64_t n = 0; n < N; ++n) {
        std::printf("sequence %lld: loss %.15f (expected %.15f)\n", static_cast<long long>(n), losses[n],
                    expected_losses[n]);
        worst = std::fmax(worst, std::fabs(losses[n] - expected_losses[n]));
    }
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t c = 0; c < C; ++c) {
                worst = std::fmax(worst, std::fabs(grad[t * N * C + n * C + c] - expected_grad[t][n][c]));
            }
        }
    }
    std::printf("largest difference from the exact loss and gradient: %.3g\n", worst);
    return worst < 1e-12 ? 0 : 1;
}
