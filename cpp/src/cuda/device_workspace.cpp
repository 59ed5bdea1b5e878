#include "device_workspace.hpp"

#include <cstdint>

#include "../byte_counter.hpp"
#include "../checked_math.hpp"
#include "probability_lattice.hpp"

namespace fastctc {
namespace cuda {

fastctc_status plan_device_workspace(int64_t max_time, int64_t batch_size, int64_t max_label_length,
                                     bool with_grad, DeviceWorkspaceLayout *layout) {
    if (max_label_length < 0) return FASTCTC_STATUS_INVALID_VALUE;
    // One lattice block per sequence, and with a gradient a second one for its
    // backward recursion: a kernel grid holds at most INT32_MAX blocks.
    if (batch_size > (with_grad ? INT32_MAX / 2 : INT32_MAX)) return FASTCTC_STATUS_SIZE_OVERFLOW;
    DeviceWorkspaceLayout l;
    l.lattice_blocks = with_grad ? 2 * batch_size : batch_size;
    const int64_t kept_rows = with_grad ? max_time : 0;  // rows of ln alpha and of ln beta
    // a * b * c as int64_t, or false on overflow.
    auto product = [](int64_t a, int64_t b, int64_t c, int64_t *out) {
        return checked_mul<int64_t>(a, b, out) && checked_mul<int64_t>(*out, c, out);
    };
    int64_t frames_total = 0, lattice_count = 0, exponent_count = 0, emission_count = 0, rolling_count = 0,
            label_count = 0;
    if (!checked_mul<int64_t>(max_label_length, 2, &l.max_states) ||
        !checked_add<int64_t>(l.max_states, 1, &l.max_states) ||
        !product(batch_size, max_time, 1, &frames_total) ||
        !product(batch_size, kept_rows, l.max_states, &lattice_count) ||
        !product(l.lattice_blocks, 2, l.max_states, &rolling_count) ||
        !product(batch_size, max_label_length, 1, &label_count))
        return FASTCTC_STATUS_SIZE_OVERFLOW;
    l.max_groups = lattice::probability::group_count(l.max_states);
    if (!product(batch_size, kept_rows, l.max_groups, &exponent_count) ||
        !product(batch_size, kept_rows, max_label_length + 1, &emission_count))
        return FASTCTC_STATUS_SIZE_OVERFLOW;

    ByteCounter bytes(kDeviceAlignment);
    const uint64_t size = uint64_t(batch_size);
    l.batch_valid = bytes.reserve(1, sizeof(int32_t));
    l.label_offsets = bytes.reserve(size, sizeof(int64_t));
    l.impossible = bytes.reserve(size, sizeof(int32_t));
    l.log_p = bytes.reserve(size, sizeof(double));
    l.log_norm = bytes.reserve(uint64_t(frames_total), sizeof(double));
    l.rolling = bytes.reserve(uint64_t(rolling_count), sizeof(double));
    if (with_grad) {
        l.alpha = bytes.reserve(uint64_t(lattice_count), sizeof(double));
        l.beta = bytes.reserve(uint64_t(lattice_count), sizeof(double));
        l.alpha_exponent = bytes.reserve(uint64_t(exponent_count), sizeof(int32_t));
        l.beta_exponent = bytes.reserve(uint64_t(exponent_count), sizeof(int32_t));
        l.emissions = bytes.reserve(uint64_t(emission_count), sizeof(double));
        l.untrusted = bytes.reserve(size, sizeof(int32_t));
        l.unvouched = bytes.reserve(size, sizeof(int32_t));
        l.next_label = bytes.reserve(uint64_t(label_count), sizeof(int64_t));
        l.first_label = bytes.reserve(uint64_t(label_count), sizeof(int32_t));
    }
    bytes.add(kDeviceAlignment - 1);  // slack to align the caller's pointer
    if (bytes.overflowed()) return FASTCTC_STATUS_SIZE_OVERFLOW;
    l.total_bytes = bytes.size();
    *layout = l;
    return FASTCTC_STATUS_SUCCESS;
}

void *device_workspace_base(void *workspace) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(workspace);
    return reinterpret_cast<void *>((address + kDeviceAlignment - 1) / kDeviceAlignment * kDeviceAlignment);
}

}  // namespace cuda
}  // namespace fastctc
