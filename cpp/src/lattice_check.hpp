// What a number system can vouch for in a row it has just computed.
#pragma once

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

struct RowCheck {
    bool sound = true;  // finite and with some mass: the row means something
    bool exact = true;  // nothing underflowed: every value is right to rounding
};

}  // namespace fastctc::FASTCTC_ISA
