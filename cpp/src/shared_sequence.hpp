// One sequence shared by all threads (a batch of one): the drivers of
// forward_backward.hpp, with the work split between threads and the same
// operations on the same rows, so the same bits as on one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>

#include "forward_backward.hpp"
#include "ieee_arithmetic.hpp"
#include "isa.hpp"
#include "parallel.hpp"
#include "scratch.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// The certification of a shared sequence's loss alone: the bounds of frames
// [first, T), where `first` is the first frame whose row or emissions are not
// exact, as certify_loss() checks them on one thread.  Each bound needs alpha_t
// and beta_t together.  Once the forward pass (one thread) reports `first`,
// another thread runs the backward recursion down from the last frame, and each
// frame's row is kept (in scratch.alpha, row t at t * row_size) by the pass that
// reaches it first: alpha from `first` up to the meeting frame, the middle of
// [first, T) where the two passes, going at one pace, cross; beta from it on.
// Past the meeting frame each pass checks the frames it reaches with the rows
// the other kept, waiting for them if need be: the forward pass the frames from
// it on, the backward pass those below it.  A team of one thread (a nested
// region) runs the forward pass to the end first, keeping every row from
// `first` on, and the backward pass checks them all.  The rows and products are
// the bits of one thread's, so the verdict is the same for any thread count.
template <typename Space>
class SharedCertification {
public:
    SharedCertification(const LatticeScratch &scratch, int64_t frames, int64_t labels, bool may_be_needed)
        : scratch_(scratch),
          frames_(frames),
          labels_(labels),
          row_size_(Space::row_size(labels)),
          meeting_(frames),
          needed_(may_be_needed) {}

    // Where the forward pass computes row t: kept from `first` to the meeting
    // frame, else in two rolling rows.
    double *forward_row(int64_t t) const {
        return started_.load(std::memory_order_relaxed) && t < meeting_ ? kept(t)
                                                                         : scratch_.beta + (t & 1) * row_size_;
    }

    // The forward pass computed row t, at forward_row(t); exact: whether it, the
    // rows before it and their frames are.  (On the forward pass's thread.)
    void forward_reached(int64_t t, const double *row, bool exact, const ThreadBuffers &mine) {
        if (!needed_.load(std::memory_order_relaxed)) return;  // none in log space, nor with a gradient
        if (!exact && !started_.load(std::memory_order_relaxed)) {
            first_ = t;
            if (team_size() > 1) meeting_ = t + (frames_ - t) / 2;
            if (t < meeting_) std::memcpy(kept(t), row, sizeof(double) * size_t(row_size_));
            announce([&] { started_.store(true, std::memory_order_release); });
        }
        alpha_through_.store(t, std::memory_order_release);
        if (t < meeting_ || failed_.load(std::memory_order_relaxed)) return;
        while (beta_from_.load(std::memory_order_acquire) > t && !failed_.load(std::memory_order_acquire))
            std::this_thread::yield();
        if (!failed_.load(std::memory_order_acquire))
            check(row, kept(t), mine, t + 1 < frames_ ? kept(t + 1) : nullptr);
    }
    void forward_finished(bool needs_certifying) {
        if (!needs_certifying) announce([&] { needed_.store(false, std::memory_order_release); });
    }

    // The backward recursion from the last frame down to `first`, once the
    // forward pass has reported it, checking the frames below the meeting one.
    void backward(const ThreadBuffers &mine) {
        {  // asleep: on an exact sequence, for the whole forward pass
            std::unique_lock<std::mutex> lock(announcing_);
            announced_.wait(lock, [&] {
                return started_.load(std::memory_order_acquire) || !needed_.load(std::memory_order_acquire);
            });
        }
        LatticeResult pass;
        const double *next = nullptr;
        for (int64_t t = frames_ - 1; t >= first_ && needed_.load(std::memory_order_relaxed) &&
                                      !failed_.load(std::memory_order_relaxed);
             --t) {
            double *row = t >= meeting_ ? kept(t) : scratch_.beta + (2 + (t & 1)) * row_size_;
            backward_frame<Space>(t, frames_, next, t + 1 < frames_ ? emissions(t + 1) : nullptr, scratch_.skip,
                                  labels_, row, &pass, emissions(t));
            if (!pass.sound) {  // a verdict already: not certified
                failed_.store(true, std::memory_order_release);
                return;
            }
            if (t >= meeting_) {
                beta_from_.store(t, std::memory_order_release);
            } else {
                while (alpha_through_.load(std::memory_order_acquire) < t && needed_.load(std::memory_order_acquire))
                    std::this_thread::yield();
                if (!needed_.load(std::memory_order_acquire)) return;  // the forward pass found no need
                check(kept(t), row, mine, t > first_ ? kept(t - 1) : nullptr);
            }
            next = row;
        }
    }

    // After both passes: whether every frame's bound holds.
    bool certified() const { return !failed_.load(std::memory_order_acquire); }

private:
    double *kept(int64_t t) const { return scratch_.alpha_row(t, row_size_); }
    const double *emissions(int64_t t) const { return scratch_.emissions_of(t, labels_); }

    // Changes started_ or needed_ (change()) and wakes the backward pass's thread.
    template <typename Change>
    void announce(Change change) {
        {
            const std::lock_guard<std::mutex> lock(announcing_);
            change();
        }
        announced_.notify_all();
    }

    // The bound of a frame from its two rows; fetch: the kept row of the frame
    // the caller checks next (see ProbabilitySpace::products()).
    void check(const double *alpha, const double *beta, const ThreadBuffers &mine, const double *fetch) {
        if constexpr (!Space::kExact) {  // none in log space (needed_ is false)
            ProductSums sums;
            Space::template products<1, false>(alpha, beta, labels_, mine.products, &sums, fetch);
            if (!sums.trusted) failed_.store(true, std::memory_order_release);
        }
    }

    const LatticeScratch &scratch_;
    const int64_t frames_, labels_, row_size_;
    // Set by the forward pass's thread before started_: the first frame checked,
    // and the first whose beta is kept.
    int64_t first_ = 0, meeting_;
    std::atomic<int64_t> alpha_through_{-1};  // forward rows [0, this] are computed
    std::atomic<int64_t> beta_from_{INT64_MAX};  // backward rows from this frame on are kept
    std::atomic<bool> started_{false};        // a forward row or a frame is not exact
    std::atomic<bool> needed_;                // until the forward pass finds it is not
    std::atomic<bool> failed_{false};         // a backward row is unsound or a bound fails
    std::mutex announcing_;                   // held to change started_ or needed_
    std::condition_variable announced_;       // notified once either changes
};

// lattice_loss() or lattice_loss_and_grad() for one sequence on `threads`
// threads.  With a gradient, every frame is read in parallel; then the forward
// and backward recursions run side by side, each keeping its rows until they
// meet at the middle frame (alpha below it, beta from it on, in one set of T
// rows) and then going on in two rolling rows of its own, finishing each
// gradient row it reaches with the row the other kept: every lattice row is
// written once and read back once, as on one thread.  The loss alone runs the
// forward recursion (lattice_loss()) while another thread, the reader, reads
// the frames ahead of it in order and then runs its certification if it turns
// out to be needed (SharedCertification, which says where each forward row
// goes).  Each frame is read by whichever thread takes it first: the reader
// takes the next sixteen in turn, the forward pass the one it needs next if the
// reader has not taken it, and while it waits for one the reader is reading, the
// next untaken ones (where reading a frame costs more than a step, as on large
// alphabets, the two share the reading).  (A team of one thread reads every
// frame first.)  buffers(thread) gives each thread its buffers.
template <typename Space, typename Real, typename BuffersOfThread>
LatticeResult lattice_shared_sequence(const Sequence<Real> &seq, const LatticeScratch &scratch, int threads,
                                      BuffersOfThread buffers) {
    const int64_t frames = seq.frames, labels = seq.label.label_length(), row_size = Space::row_size(labels);
    const bool grad = seq.grad != nullptr;
    const int64_t middle = frames / 2;
    LatticeResult result, backward_result;
    fill_skip(seq.label, scratch.skip);
    // The forward pass of lattice_loss_and_grad() or of lattice_loss() (without its checkpoints).
    ForwardPass<Space, false> forward_with_grad{scratch.skip, labels, &result};
    ForwardPass<Space, true> forward_of_loss_alone{scratch.skip, labels, &result};
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
                forward_with_grad.frame(t, t > 0 ? alpha(t - 1) : nullptr, e(t), scratch.log_scale[t], alpha(t));
                if (t >= middle && kept_beta_sound && result.trusted(true))
                    finish_grad_row<Space>(seq, t, alpha(t), beta(t), e(t), scratch.log_scale[t], scratch.slots,
                                           mine, &result, t + 1 < frames ? beta(t + 1) : nullptr);
            }
            if (last == frames) result.loss = forward_with_grad.loss(alpha(frames - 1));
        };
        // The loss alone's forward recursion, each row where the certification keeps it.
        const auto run_forward_alone = [&] {
            const ThreadBuffers mine = buffers(thread_index());
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
                forward_of_loss_alone.frame(t, prev, e(t), scratch.log_scale[t], row);
                certification.forward_reached(t, row, result.exact && frames_exact, mine);
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
                    certification.backward(buffers(thread_index()));
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
        result.products_trusted = certification.certified();
        result.certified = true;
    }
    result.sound = result.sound && frames_sound && backward_result.sound;
    result.exact = result.exact && first_inexact_frame == frames;
    result.products_trusted = result.products_trusted && backward_result.products_trusted;
    return result;
}

}  // namespace fastctc::FASTCTC_ISA
