// Size arithmetic for carving a caller's workspace into aligned arrays,
// recording overflow instead of wrapping around.  Shared by the CPU and CUDA
// workspace plans.
#pragma once

#include <cstddef>
#include <cstdint>

#include "checked_math.hpp"

namespace fastctc {

inline constexpr size_t kAlignment = 64;  // a cache line; also enough for any SIMD load

class ByteCounter {
public:
    explicit ByteCounter(size_t alignment = kAlignment) : alignment_(alignment) {}

    // Reserves count elements of elem_size bytes; returns the offset of the
    // first and keeps the next offset aligned.
    size_t reserve(uint64_t count, size_t elem_size) {
        const size_t offset = size_;
        size_t bytes = 0;
        if (!checked_mul<size_t>(count, elem_size, &bytes)) overflowed_ = true;
        add(bytes);
        add((alignment_ - size_ % alignment_) % alignment_);
        return offset;
    }
    void add(size_t bytes) {
        if (!checked_add(size_, bytes, &size_)) overflowed_ = true;
    }
    size_t size() const { return size_; }
    bool overflowed() const { return overflowed_; }

private:
    size_t alignment_;
    size_t size_ = 0;
    bool overflowed_ = false;
};

// The aligned base address inside a caller's workspace.
inline void *workspace_base(void *workspace) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(workspace);
    return reinterpret_cast<void *>((address + kAlignment - 1) / kAlignment * kAlignment);
}

// A typed pointer at a byte offset from an aligned base.
template <typename T>
T *at_offset(void *base, size_t offset) {
    return reinterpret_cast<T *>(static_cast<char *>(base) + offset);
}

}  // namespace fastctc
