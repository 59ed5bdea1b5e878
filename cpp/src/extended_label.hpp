// The extended label l' of Graves et al. 2006, Section 4.1.
//
// The paper indexes l' from 1 with blanks at odd positions; we index from 0,
// so blanks sit at even states s = 2j (j = 0..|l|) and label l[j] sits at state
// s = 2j + 1:
//
//     l = (A, B, B)   ->   l' = (_, A, _, B, _, B, _),   |l'| = 2|l| + 1.
//
// The CUDA kernels use the same class on device pointers (host_device.hpp).
#pragma once

#include <cstdint>

#include "host_device.hpp"
#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

class ExtendedLabel {
public:
    FASTCTC_HOST_DEVICE ExtendedLabel(const int32_t *label, int64_t label_length, int32_t blank)
        : label_(label), length_(label_length), blank_(blank) {}

    FASTCTC_HOST_DEVICE const int32_t *labels() const { return label_; }
    FASTCTC_HOST_DEVICE int64_t label_length() const { return length_; }
    FASTCTC_HOST_DEVICE int64_t size() const { return 2 * length_ + 1; }
    FASTCTC_HOST_DEVICE int32_t blank() const { return blank_; }

    // l'_s: the class emitted in state s.
    FASTCTC_HOST_DEVICE int32_t operator[](int64_t s) const { return (s & 1) ? label_[s >> 1] : blank_; }

    // Graves eq. (6): a path may jump from state s - 2 straight to s (skipping
    // the blank between them) only when l'_s is a label that differs from
    // l'_{s-2}; between repeated labels the blank is compulsory.
    FASTCTC_HOST_DEVICE bool can_skip_into(int64_t s) const {
        return (s & 1) && s >= 3 && label_[s >> 1] != label_[(s >> 1) - 1];
    }

    // The fewest frames any alignment needs: one per label, plus one blank
    // between each pair of equal neighbours.
    FASTCTC_HOST_DEVICE int64_t min_frames() const {
        int64_t frames = length_;
        for (int64_t j = 1; j < length_; ++j) frames += (label_[j] == label_[j - 1]);
        return frames;
    }

private:
    const int32_t *label_;
    int64_t length_;
    int32_t blank_;
};

}  // namespace fastctc::FASTCTC_ISA
