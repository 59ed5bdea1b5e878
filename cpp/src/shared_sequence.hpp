// One sequence shared by all threads (a batch of one): the drivers of
// forward_backward.hpp, with the work split between threads and the same
// operations on the same rows, so the same bits as on one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "forward_backward.hpp"
#include "ieee_arithmetic.hpp"
#include "isa.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// The certification of a shared sequence's loss alone (certify_loss() does it
// on one thread), in three parts that run as their inputs come:
// - the forward pass (one thread) reports its progress and whether its rows
//   are still exact (forward_reached()), then whether they need certifying at
//   all (forward_finished());
// - once a row is found not exact, another thread runs the backward recursion
//   from the last frame, keeping beta at each checkpoint frame down to that
//   row's segment (keep_backward_checkpoints());
// - the segments from that row's on are certified (certify_segment()) by
//   whichever thread is free (certify_segments()), each as soon as the forward
//   checkpoint at its start and the backward one at its end are kept: the
//   forward pass's thread takes them from the last, the backward pass's from
//   the first, the others (after both passes) from the first.
// Each segment is checked on the same rows as on one thread, so the verdict is
// the same for any thread count.
template <typename Space>
class SharedCertification {
public:
    SharedCertification(const LatticeScratch &scratch, int64_t frames, int64_t labels, bool may_be_needed)
        : scratch_(scratch),
          frames_(frames),
          labels_(labels),
          row_size_(Space::row_size(labels)),
          stride_(checkpoint_stride(frames)),
          next_high_(checkpoint_count(frames)),
          beta_kept_from_(frames),
          needed_(may_be_needed) {}

    // Forward rows [0, t] are computed (and their checkpoints kept); exact:
    // whether they and their frames are.  The first row that is not is the first
    // frame certified (certify_loss()).
    void forward_reached(int64_t t, bool exact) {
        alpha_kept_through_.store(t, std::memory_order_release);
        if (!exact && !started_.load(std::memory_order_relaxed)) {
            first_ = t;
            next_low_ = t / stride_;  // no thread claims before started_
            started_.store(true, std::memory_order_release);
        }
    }
    void forward_finished(bool needs_certifying) {
        if (!needs_certifying) needed_.store(false, std::memory_order_release);
    }

    void keep_backward_checkpoints() {
        while (!started_.load(std::memory_order_acquire) && needed_.load(std::memory_order_acquire))
            std::this_thread::yield();
        auto row = [&](int64_t t) {
            return t % stride_ == 0 ? scratch_.backward_checkpoints + (t / stride_) * row_size_
                                    : scratch_.beta + (t & 1) * row_size_;
        };
        LatticeResult pass;
        const int64_t lowest = (first_ / stride_ + 1) * stride_;  // the end of first_'s segment
        for (int64_t t = frames_ - 1; t >= lowest && needed_.load(std::memory_order_relaxed); --t) {
            backward_frame<Space>(t, frames_, t + 1 < frames_ ? row(t + 1) : nullptr,
                                  t + 1 < frames_ ? emissions(t + 1) : nullptr, scratch_.skip, labels_, row(t), &pass);
            if (!pass.sound) {  // a verdict already: not certified
                failed_.store(true, std::memory_order_release);
                return;
            }
            if (t % stride_ == 0) beta_kept_from_.store(t, std::memory_order_release);
        }
    }

    // mine: the calling thread's buffers.
    void certify_segments(bool last_first, const ThreadBuffers &mine) {
        if (!needed_.load(std::memory_order_acquire)) return;
        for (int64_t k; (k = claim(last_first)) >= 0;) {
            const int64_t start = k * stride_, end = start + stride_ < frames_ ? start + stride_ : frames_;
            const auto kept = [&] {
                return alpha_kept_through_.load(std::memory_order_acquire) >= start &&
                       (end == frames_ || beta_kept_from_.load(std::memory_order_acquire) <= end);
            };
            while (!kept() && !failed_.load(std::memory_order_acquire) && needed_.load(std::memory_order_acquire))
                std::this_thread::yield();
            if (failed_.load(std::memory_order_acquire) || !needed_.load(std::memory_order_acquire)) return;
            LatticeResult segment;
            certify_segment<Space>(start, end, first_, frames_, scratch_.skip, labels_,
                                   scratch_.checkpoints + k * row_size_, mine.segment,
                                   end < frames_ ? scratch_.backward_checkpoints + (k + 1) * row_size_ : nullptr,
                                   mine.segment + stride_ * row_size_, emissions_of(), mine.products, &segment);
            if (!segment.trusted(true)) failed_.store(true, std::memory_order_release);
        }
    }

    // After every thread's certify_segments(): whether every segment's bounds hold.
    bool certified() const { return !failed_.load(std::memory_order_acquire); }

private:
    const double *emissions(int64_t t) const { return scratch_.emissions + t * (labels_ + 1); }
    auto emissions_of() const {
        return [this](int64_t t) { return emissions(t); };
    }

    // The next segment no thread has taken, the last or the first; -1 when none is left.
    int64_t claim(bool last_first) {
        const std::lock_guard<std::mutex> lock(claims_);
        if (next_low_ >= next_high_) return -1;
        return last_first ? --next_high_ : next_low_++;
    }

    const LatticeScratch &scratch_;
    const int64_t frames_, labels_, row_size_, stride_;
    std::mutex claims_;
    int64_t first_ = 0;                                // the first frame certified
    int64_t next_low_ = 0, next_high_;                 // segments [next_low_, next_high_) are unclaimed
    std::atomic<int64_t> alpha_kept_through_{-1};     // forward rows [0, this] are computed
    std::atomic<int64_t> beta_kept_from_;             // backward checkpoints from this frame on are kept
    std::atomic<bool> started_{false};                // a forward row or a frame is not exact
    std::atomic<bool> needed_;                        // until the forward pass finds it is not
    std::atomic<bool> failed_{false};                 // a backward row is unsound or a bound fails
};

// lattice_loss() or lattice_loss_and_grad() for one sequence on `threads`
// threads: every frame is read in parallel; then the forward recursion runs,
// and with a gradient the backward one beside it.  With a gradient, each
// recursion keeps its rows until they meet at the middle frame (alpha below it,
// beta from it on, in one set of T rows) and then goes on in two rolling rows
// of its own, finishing each gradient row it reaches with the row the other
// kept: every lattice row is written once and read back once, as on one thread.
// The loss alone runs the forward recursion (lattice_loss()) while its
// certification, if it turns out to be needed, runs beside it
// (SharedCertification).  buffers(thread) gives each thread its buffers.
template <typename Space, typename Real, typename BuffersOfThread>
LatticeResult lattice_shared_sequence(const Sequence<Real> &seq, const LatticeScratch &scratch, int threads,
                                      BuffersOfThread buffers) {
    const int64_t frames = seq.frames, labels = seq.label.label_length(), row_size = Space::row_size(labels);
    const bool grad = seq.grad != nullptr;
    const int64_t middle = frames / 2;
    LatticeResult result, backward_result;
    fill_skip(seq.label, scratch.skip);
    // The forward pass of lattice_loss_and_grad() or of lattice_loss().
    ForwardPass<Space, false> forward_with_grad{scratch.skip, labels, &result};
    ForwardPass<Space, true> forward_of_loss_alone = forward_alone<Space>(seq, scratch, &result);
    auto e = [&](int64_t t) { return scratch.emissions + t * (labels + 1); };
    // With a gradient, row t of scratch.alpha keeps alpha_t below the middle and
    // beta_t from it on, and the recursions roll on in scratch.beta's rows 0-1
    // (forward) and 2-3 (backward); the loss alone rolls in scratch.alpha's two.
    auto kept = [&](int64_t t) { return scratch.alpha + t * row_size; };
    auto alpha = [&](int64_t t) {
        if (!grad) return scratch.alpha + (t & 1) * row_size;
        return t < middle ? kept(t) : scratch.beta + (t & 1) * row_size;
    };
    auto beta = [&](int64_t t) { return t >= middle ? kept(t) : scratch.beta + (2 + (t & 1)) * row_size; };
    bool frames_sound = true;
    int64_t first_inexact_frame = frames;  // the first frame whose emissions are not exact
    bool kept_beta_sound = true;  // every backward row from the middle on was computed
    // The loss alone: whether its forward rows need certifying (as in lattice_loss()).
    const auto needs_certifying = [&] {
        return !Space::kExact && !grad && result.sound && frames_sound &&
               !(result.exact && first_inexact_frame == frames);
    };
    SharedCertification<Space> certification(scratch, frames, labels, !Space::kExact && !grad);

#pragma omp parallel num_threads(threads)
    {
        const IeeeArithmetic ieee;  // each worker, in whatever mode it was started
#pragma omp for schedule(static) reduction(&& : frames_sound) reduction(min : first_inexact_frame)
        for (int64_t t = 0; t < frames; ++t) {
            LatticeResult frame_result;
            scratch.log_scale[t] = frame_emissions<Space>(seq, t, e(t), buffers(thread_index()), &frame_result);
            frames_sound = frames_sound && frame_result.sound;
            if (!frame_result.exact && t < first_inexact_frame) first_inexact_frame = t;
        }

        // The forward recursion over frames [first, last), finishing each row from
        // the middle on; the loss after the last frame.
        const auto run_forward = [&](auto &forward, int64_t first, int64_t last) {
            const ThreadBuffers mine = buffers(thread_index());
            for (int64_t t = first; t < last; ++t) {
                forward.frame(t, t > 0 ? alpha(t - 1) : nullptr, e(t), scratch.log_scale[t], alpha(t));
                if (!grad) certification.forward_reached(t, result.exact && t < first_inexact_frame);
                if (grad && t >= middle && kept_beta_sound && result.trusted(true))
                    finish_grad_row<Space>(seq, t, alpha(t), beta(t), e(t), scratch.log_scale[t], scratch.slots,
                                           mine, &result);
            }
            if (last == frames) result.loss = forward.loss(alpha(frames - 1));
        };
        // The backward recursion over frames [first, last), from last - 1 down,
        // finishing each row below the middle.
        const auto run_backward = [&](int64_t first, int64_t last) {
            const ThreadBuffers mine = buffers(thread_index());
            for (int64_t t = last - 1; t >= first && backward_result.trusted(true); --t) {
                backward_frame<Space>(t, frames, t + 1 < frames ? beta(t + 1) : nullptr,
                                      t + 1 < frames ? e(t + 1) : nullptr, scratch.skip, labels, beta(t),
                                      &backward_result);
                if (t < middle)
                    finish_grad_row<Space>(seq, t, alpha(t), beta(t), e(t), scratch.log_scale[t], scratch.slots,
                                           mine, &backward_result);
            }
        };

#pragma omp sections
        {
#pragma omp section
            {
                if (grad) {
                    run_forward(forward_with_grad, 0, middle);
                } else {
                    run_forward(forward_of_loss_alone, 0, frames);
                    certification.forward_finished(needs_certifying());
                    // (Waiting for backward checkpoints: only where another thread computes them.
                    // A team of one, as a nested region can be, runs the sections in turn.)
                    if (team_size() > 1) certification.certify_segments(/*last_first=*/true, buffers(thread_index()));
                }
            }
#pragma omp section
            {
                if (grad) {
                    run_backward(middle, frames);
                    kept_beta_sound = backward_result.sound;  // read by the forward recursion past the barrier
                } else {
                    certification.keep_backward_checkpoints();
                    certification.certify_segments(/*last_first=*/false, buffers(thread_index()));
                }
            }
        }  // implicit barrier: the rows up to the middle are kept
        if (!grad) certification.certify_segments(/*last_first=*/false, buffers(thread_index()));  // what is left

        if (grad) {
#pragma omp sections
            {
#pragma omp section
                run_forward(forward_with_grad, middle, frames);
#pragma omp section
                run_backward(0, middle);
            }
        }
    }
    if (needs_certifying()) {
        result.products_trusted = certification.certified();
        result.certified = true;
    }
    result.sound = result.sound && frames_sound && backward_result.sound;
    result.exact = result.exact && first_inexact_frame == frames;
    result.products_trusted = result.products_trusted && backward_result.products_trusted;
    return result;
}

}  // namespace fastctc::FASTCTC_ISA
