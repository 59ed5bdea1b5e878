// Keeping the best beam_width candidates of a beam-search step.
//
// A bounded min-heap: its top is the worst candidate kept, so a new candidate
// is admitted or rejected with one comparison.  Candidates are ordered by
// rank, then by the order in which they were offered (earlier wins ties), so
// the kept set is a pure function of the inputs, whatever the thread count.
#pragma once

#include <algorithm>
#include <cstdint>

namespace fastctc {

struct Candidate {
    double rank;    // the ranking score: log-probability plus the prefix's lm
    double blank;   // ln p_b of the prefix at this frame
    double label;   // ln p_nb of the prefix at this frame
    double lm;      // the prefix's weighted scorer log-score, bonuses included
    int64_t order;  // when it was offered; earlier wins ties
    int32_t entry;  // the beam entry it comes from
    int32_t token;  // the token appended to that entry's prefix; -1: none
};

class BeamSelection {
public:
    BeamSelection(Candidate *items, int32_t capacity) : items_(items), capacity_(capacity) {}

    void clear() { size_ = 0; }

    // Whether a candidate of this rank, offered after everything kept so far,
    // would be kept.  Later candidates lose ties, so an equal rank is not enough.
    bool admits(double rank) const { return size_ < capacity_ || rank > items_[0].rank; }

    void offer(const Candidate &candidate) {
        if (!admits(candidate.rank)) return;
        if (size_ == capacity_) std::pop_heap(items_, items_ + size_--, better);  // drop the worst
        items_[size_++] = candidate;
        std::push_heap(items_, items_ + size_, better);
    }

    // Sorts the kept candidates best first; returns how many there are.
    int32_t sort_best_first() {
        std::sort_heap(items_, items_ + size_, better);
        return size_;
    }

    const Candidate &operator[](int32_t i) const { return items_[i]; }

private:
    // The heap's comparison: with it, the heap's top is the worst candidate.
    static bool better(const Candidate &a, const Candidate &b) {
        return a.rank > b.rank || (a.rank == b.rank && a.order < b.order);
    }

    Candidate *items_;
    int32_t capacity_;
    int32_t size_ = 0;
};

}  // namespace fastctc
