// What a number system can vouch for in a row it has just computed.
#pragma once

#include "isa.hpp"

namespace fastctc::FASTCTC_ISA {

struct RowCheck {
    bool sound = true;  // finite and with some mass: the row means something
    bool exact = true;  // nothing underflowed: every value is right to rounding
};

// A frame's state products (alpha_t(s) beta_t(s), up to a common factor)
// summed over the blank states and over the label states: Z_t is their total.
struct ProductSums {
    double blanks;
    double labels;
    bool trusted;  // the number system vouches for them (see products())
};

}  // namespace fastctc::FASTCTC_ISA
