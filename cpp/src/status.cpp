#include "fastctc/ctc.h"

extern "C" const char *fastctc_status_string(fastctc_status status) {
    switch (status) {
        case FASTCTC_STATUS_SUCCESS:
            return "success";
        case FASTCTC_STATUS_INVALID_VALUE:
            return "invalid value: a null array, a size, length, label or blank out of range, or a label equal to blank";
        case FASTCTC_STATUS_WORKSPACE_TOO_SMALL:
            return "workspace too small: query fastctc_workspace_size() with the same batch and options";
        case FASTCTC_STATUS_SIZE_OVERFLOW:
            return "size overflow: the batch is too large to address";
        case FASTCTC_STATUS_SCORER_FAILED:
            return "the beam search's scorer failed";
        case FASTCTC_STATUS_CUDA_ERROR:
            return "CUDA error: a kernel launch failed; cudaGetLastError() returns the CUDA error";
    }
    return "unknown status";
}
