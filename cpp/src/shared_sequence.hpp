// One sequence shared by all threads (a batch of one): the drivers of
// forward_backward.hpp, with the work split between threads and the same
// operations on the same rows, so the same bits as on one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>

#include "forward_backward.hpp"
#include "ieee_arithmetic.hpp"
#include "isa.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// The certification of a shared sequence's loss alone (certify_loss() on one
// thread): while the forward pass runs (on its thread), another thread runs the
// upper bound of the backward recursion from the last frame down, keeping each
// row's scales (keep_scales(), in scratch.backward_scales), until it reaches
// `first`, the first frame whose row or frames are not exact, once the forward
// pass has reported it, or until the forward pass ends exact; the forward pass
// keeps its own rows' scales from `first` on (ForwardPass, in
// scratch.forward_scales).  The backward pass starts without waiting for
// `first`: a long sequence that needs certifying finds it late (T=5000 L=1000:
// at frame 1951), and the frames below it that the backward pass computed in the
// meantime cost nothing but its thread's idle time.  Each pass rolls its rows in
// two of scratch.beta's: the forward pass in rows 0-1, the backward one in 2-3.
// certified() then takes each frame's lost_exponent() from `first` on.  A team
// of one thread runs the forward pass to the end first.  The rows and scales are
// the bits of one thread's, so the verdict is the same for any thread count.
template <typename Space>
class SharedCertification {
public:
    SharedCertification(const LatticeScratch &scratch, int64_t frames, int64_t labels, bool may_be_needed)
        : scratch_(scratch),
          frames_(frames),
          labels_(labels),
          row_size_(Space::row_size(labels)),
          first_(frames),
          needed_(may_be_needed) {}

    // Where the forward pass computes row t.
    double *forward_row(int64_t t) const { return scratch_.beta + (t & 1) * row_size_; }

    // The forward pass computed row t; first_inexact: ForwardPass's.  (On the
    // forward pass's thread.)
    void forward_reached(int64_t first_inexact) {
        if (first_inexact < 0 || started_.load(std::memory_order_relaxed)) return;
        first_ = first_inexact;
        started_.store(true, std::memory_order_release);
    }
    void forward_finished(bool needs_certifying) {
        if (!needs_certifying) needed_.store(false, std::memory_order_release);
    }

    // The upper bound of the backward recursion from the last frame down to
    // `first` (see above).
    void backward() {
        if constexpr (!Space::kExact) {  // none in log space (needed_ is false)
            const double *next = nullptr;
            for (int64_t t = frames_ - 1; t >= 0 && needed_.load(std::memory_order_acquire) &&
                                          !(started_.load(std::memory_order_acquire) && t < first_);
                 --t) {
                double *row = scratch_.beta + (2 + (t & 1)) * row_size_;
                LatticeResult bound;
                backward_frame<Space, true>(t, frames_, next, t + 1 < frames_ ? emissions(t + 1) : nullptr,
                                            scratch_.skip, labels_, row, &bound, emissions(t));
                if (!bound.sound) {
                    unsound_from_ = t;
                    return;
                }
                Space::keep_scales(row, labels_, scratch_.backward_scales, t);
                next = row;
            }
        }
    }

    // After both passes: whether the forward rows can have lost at most
    // kLostShare of p(l|x); end: ln of their end mass (ForwardPass::end).
    bool certified(double end) const {
        if constexpr (Space::kExact) {
            return true;
        } else {
            double top = -INFINITY;
            for (int64_t t = first_; t < frames_; ++t) {
                const double exponent = lost_exponent_of_frame<Space>(
                    t, scratch_.forward_scales, Space::kept_scales(scratch_.backward_scales, labels_, t), labels_);
                top = exponent > top ? exponent : top;
            }
            return unsound_from_ < first_ && Space::lost_within_share(top, frames_ - first_, labels_, end);
        }
    }

private:
    const double *emissions(int64_t t) const { return scratch_.emissions_of(t, labels_); }

    const LatticeScratch &scratch_;
    const int64_t frames_, labels_, row_size_;
    int64_t first_;  // set by the forward pass's thread before started_
    // The frame whose upper bound of beta is not sound, if the backward pass met
    // one (it stops there; one below `first`, met before the forward pass
    // reported it, changes no verdict), else -1.
    int64_t unsound_from_ = -1;
    std::atomic<bool> started_{false};  // a forward row or a frame is not exact
    std::atomic<bool> needed_;          // until the forward pass finds it is not
};

// lattice_loss() or lattice_loss_and_grad() for one sequence on `threads`
// threads.  With a gradient, every frame is read in parallel; then the forward
// and backward recursions run side by side, each keeping its rows until they
// meet at the middle frame (alpha below it, beta from it on, in one set of T
// rows) and then going on in two rolling rows of its own, finishing each
// gradient row it reaches with the row the other kept: every lattice row is
// written once and read back once, as on one thread.  The loss alone runs the
// forward recursion (lattice_loss()) while another thread, the reader, reads
// the frames ahead of it in order and then runs its certification's backward
// pass until the forward pass finds how far it must go (SharedCertification,
// which says where each forward row goes; the forward pass keeps its rows'
// scales from its first inexact frame on, as on one thread).  Each frame is read
// by whichever thread takes it first: the reader takes the next sixteen in turn,
// the forward pass the one it needs next if the reader has not taken it, and
// while it waits for one the reader is reading, the next untaken ones (where
// reading a frame costs more than a step, as on large alphabets, the two share
// the reading).  (A team of one thread reads every frame first.)
// buffers(thread) gives each thread its buffers.
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
    ForwardPass<Space, true> forward_of_loss_alone{scratch.skip, labels, &result, scratch.forward_scales};
    auto e = [&](int64_t t) { return scratch.emissions_of(t, labels); };
    // With a gradient, row t of scratch.alpha keeps alpha_t below the middle and
    // beta_t from it on, and the recursions roll on in scratch.beta's rows 0-1
    // (forward) and 2-3 (backward).
    auto kept = [&](int64_t t) { return scratch.alpha_row(t, row_size); };
    auto alpha = [&](int64_t t) { return t < middle ? kept(t) : scratch.beta + (t & 1) * row_size; };
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

    // The loss alone's frames as the reader reads them ahead of the forward pass:
    // the first that no thread has taken, the last that the reader has read (it
    // has read every frame it took up to it), the first of those that is not
    // exact (frames if none), and whether all of them are sound; and how many
    // the forward pass's thread has read.  Each counter on a cache line of its
    // own: the two threads write them at different paces.
    alignas(64) std::atomic<int64_t> first_untaken{0};
    alignas(64) std::atomic<int64_t> reader_through{-1};
    alignas(64) std::atomic<int64_t> reader_first_inexact{frames};
    alignas(64) std::atomic<int64_t> forward_pass_read{0};
    bool reader_sound = true;

#pragma omp parallel num_threads(threads)
    {
        const IeeeArithmetic ieee;  // each worker, in whatever mode it was started
        const bool read_ahead = !grad && team_size() > 1;
        // Reads frame t into e(t) and log_scale[t], noting its verdict in sound and first_inexact.
        const auto read_frame = [&](int64_t t, bool *sound, int64_t *first_inexact) {
            LatticeResult frame_result;
            scratch.log_scale[t] = frame_emissions<Space>(seq, t, e(t), buffers(thread_index()), &frame_result);
            *sound = *sound && frame_result.sound;
            if (!frame_result.exact && t < *first_inexact) *first_inexact = t;
        };
        if (!read_ahead) {
#pragma omp for schedule(static) reduction(&& : frames_sound) reduction(min : first_inexact_frame)
            for (int64_t t = 0; t < frames; ++t) read_frame(t, &frames_sound, &first_inexact_frame);
        }
        // The reader's frames (read_ahead), each published once read; then, once
        // the forward pass's thread has read the frames it took, every frame is
        // there for the certification's backward recursion.
        constexpr int64_t kReaderTakes = 16;  // frames at a time
        const auto read_ahead_frames = [&] {
            int64_t first_inexact = frames, read = 0;
            for (int64_t taken; (taken = first_untaken.fetch_add(kReaderTakes, std::memory_order_relaxed)) < frames;)
                for (int64_t t = taken; t < std::min(taken + kReaderTakes, frames); ++t, ++read) {
                    read_frame(t, &reader_sound, &first_inexact);
                    if (first_inexact == t) reader_first_inexact.store(t, std::memory_order_relaxed);
                    reader_through.store(t, std::memory_order_release);
                }
            while (read + forward_pass_read.load(std::memory_order_acquire) < frames) std::this_thread::yield();
        };

        // The forward recursion over frames [first, last), finishing each row from
        // the middle on; the loss after the last frame.
        const auto run_forward = [&](int64_t first, int64_t last) {
            const ThreadBuffers mine = buffers(thread_index());
            for (int64_t t = first; t < last; ++t) {
                forward_with_grad.frame(t, t > 0 ? alpha(t - 1) : nullptr, e(t), scratch.log_scale[t], alpha(t), true,
                                        t + 1 < frames ? e(t + 1) : nullptr);
                if (t >= middle && kept_beta_sound && result.trusted(true))
                    finish_grad_row<Space>(seq, t, alpha(t), beta(t), e(t), scratch.log_scale[t], scratch.slots,
                                           mine, &result, t + 1 < frames ? beta(t + 1) : nullptr);
            }
            if (last == frames) result.loss = forward_with_grad.loss(alpha(frames - 1));
        };
        // The loss alone's forward recursion, each row where the certification says.
        const auto run_forward_alone = [&] {
            const double *prev = nullptr;
            bool own_sound = true;  // of the frames this thread read (read_ahead)
            int64_t own_first_inexact = frames, own_read = 0;
            const auto read_own = [&](int64_t t) {
                read_frame(t, &own_sound, &own_first_inexact);
                forward_pass_read.store(++own_read, std::memory_order_release);
            };
            // The frames this thread read ahead while the reader read the one it
            // needed: own_ahead[i % kOwnAhead] for i in [next_own, own_end), in order.
            constexpr int64_t kOwnAhead = 16;
            int64_t own_ahead[kOwnAhead], next_own = 0, own_end = 0;
            const auto read_one_untaken = [&] {
                if (own_end - next_own == kOwnAhead || first_untaken.load(std::memory_order_relaxed) >= frames)
                    return false;
                const int64_t u = first_untaken.fetch_add(1, std::memory_order_relaxed);
                if (u >= frames) return false;
                read_own(u);
                own_ahead[own_end++ % kOwnAhead] = u;
                return true;
            };
            for (int64_t t = 0; t < frames; ++t) {
                if (read_ahead) {
                    int64_t untaken = t;
                    if (next_own < own_end && own_ahead[next_own % kOwnAhead] == t) {
                        ++next_own;  // read ahead already
                    } else if (first_untaken.load(std::memory_order_relaxed) == t &&
                               first_untaken.compare_exchange_strong(untaken, t + 1, std::memory_order_relaxed)) {
                        read_own(t);
                    } else {  // the reader took it
                        while (reader_through.load(std::memory_order_acquire) < t)
                            if (!read_one_untaken()) std::this_thread::yield();
                    }
                }
                // Whether frames [0, t] are all exact.
                const bool frames_exact =
                    read_ahead ? t < own_first_inexact && t < reader_first_inexact.load(std::memory_order_relaxed)
                               : t < first_inexact_frame;
                double *row = certification.forward_row(t);
                forward_of_loss_alone.frame(t, prev, e(t), scratch.log_scale[t], row, frames_exact,
                                            t + 1 < frames ? e(t + 1) : nullptr);
                certification.forward_reached(forward_of_loss_alone.first_inexact);
                prev = row;
            }
            if (read_ahead) {  // every frame is read: the reader's verdicts are final
                frames_sound = own_sound && reader_sound;
                first_inexact_frame = std::min(own_first_inexact, reader_first_inexact.load(std::memory_order_relaxed));
            }
            result.loss = forward_of_loss_alone.loss(prev);
        };
        // The backward recursion over frames [first, last), from last - 1 down,
        // finishing each row below the middle.
        const auto run_backward = [&](int64_t first, int64_t last) {
            const ThreadBuffers mine = buffers(thread_index());
            for (int64_t t = last - 1; t >= first && backward_result.trusted(true); --t) {
                backward_frame<Space>(t, frames, t + 1 < frames ? beta(t + 1) : nullptr,
                                      t + 1 < frames ? e(t + 1) : nullptr, scratch.skip, labels, beta(t),
                                      &backward_result, e(t));
                if (t < middle)
                    finish_grad_row<Space>(seq, t, alpha(t), beta(t), e(t), scratch.log_scale[t], scratch.slots,
                                           mine, &backward_result, t > 0 ? alpha(t - 1) : nullptr);
            }
        };

#pragma omp sections
        {
#pragma omp section
            {
                if (grad) {
                    run_forward(0, middle);
                } else {
                    run_forward_alone();
                    certification.forward_finished(needs_certifying());
                }
            }
#pragma omp section
            {
                if (grad) {
                    run_backward(middle, frames);
                    kept_beta_sound = backward_result.sound;  // read by the forward recursion past the barrier
                } else {
                    if (read_ahead) read_ahead_frames();
                    certification.backward();
                }
            }
        }  // implicit barrier: the rows up to the middle are kept

        if (grad) {
#pragma omp sections
            {
#pragma omp section
                run_forward(middle, frames);
#pragma omp section
                run_backward(0, middle);
            }
        }
    }
    if (needs_certifying()) {
        result.products_trusted = certification.certified(forward_of_loss_alone.end);
        result.certified = true;
    }
    result.sound = result.sound && frames_sound && backward_result.sound;
    result.exact = result.exact && first_inexact_frame == frames;
    result.products_trusted = result.products_trusted && backward_result.products_trusted;
    return result;
}

}  // namespace fastctc::FASTCTC_ISA
