// CTC prefix beam search for one sequence.
//
// Graves 2012 ("Supervised Sequence Labelling with Recurrent Neural
// Networks"), Sec. 7.5, in the prefix form of Hannun et al. 2014.  The
// probability of a label prefix l after frame t is split by the class of the
// path's last frame: p_b(l, t) (a blank) and p_nb(l, t) (l's last label l_e).
// With y^t_k the probability of class k at frame t, l^- the prefix l without
// l_e, and the empty prefix starting at p_b = 1, p_nb = 0:
//
//   p_b(l, t)  = (p_b(l, t-1) + p_nb(l, t-1)) y^t_b                         (1)
//   p_nb(l, t) = (p_nb(l, t-1) + ext(l^-, l_e, t-1)) y^t_{l_e}             (2)
//   ext(l, k, t) = p_b(l, t)                 if k = l_e (a repeat needs a
//                                             blank between the two)
//                = p_b(l, t) + p_nb(l, t)    otherwise                     (3)
//
// and a prefix l + k new to the beam starts at p_b = 0,
// p_nb = ext(l, k, t-1) y^t_k.  Only prefixes in the beam carry mass: the ext
// term of (2) counts when l^- was in the beam at t-1 (as in TensorFlow's
// decoder).  After each frame the beam_width prefixes of highest rank are
// kept, rank = ln(p_b + p_nb) + lm(l), where lm(l) is the scorer's weighted
// log-score of l's tokens plus an insertion bonus per token (0 without a
// scorer); at the end the scorer's end-of-sequence score is added too.
//
// Numerical twist: all of it in log space in double precision.  Speed: the
// classes of a frame are visited in decreasing probability (sorted lazily),
// so extending a prefix stops at the first class whose best possible rank
// cannot enter the beam; that rejects only what the selection would reject
// anyway.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>

#include "beam_selection.hpp"
#include "fastctc/ctc.h"
#include "frame.hpp"
#include "isa.hpp"
#include "log_space.hpp"
#include "prefix_trie.hpp"
#include "sequence.hpp"

namespace fastctc::FASTCTC_ISA {

// A prefix in the beam.
struct BeamEntry {
    int32_t node;     // its trie node
    int32_t lm_row;   // its row of scorer log-scores, or -1
    double blank;     // ln p_b
    double label;     // ln p_nb
    double lm_bound;  // the most the scorer adds to an extension of it
};

struct BeamConfig {
    int32_t beam_width;
    int32_t top_paths;
    bool prune;
    double prune_logp;
    fastctc_scorer scorer;  // scorer.score == nullptr: none
};

struct BeamScratch {
    PrefixNode *nodes;     // 1 + beam_width * T
    int32_t *table;        // the trie's hash table
    uint64_t table_size;   // entries in table
    BeamEntry *beam;       // beam_width: the current beam
    BeamEntry *next_beam;  // beam_width: the beam being built
    Candidate *candidates; // beam_width
    double *log_probs;     // C: ln y^t_k of the current frame
    int32_t *classes;      // C: the classes that may extend a prefix (see class_at)
    int32_t *prefix;       // T: a prefix handed to the scorer
    double *lm_rows;       // beam_width x C scorer rows, or nullptr
    int32_t *free_rows;    // beam_width: a stack of unused rows
};

// Where one sequence's hypotheses go: top_paths of each.
template <typename Real>
struct BeamOut {
    int32_t *tokens;        // top_paths rows of max_time
    int64_t *token_frames;  // likewise
    int64_t *token_counts;
    Real *log_probs;
    Real *scores;
    int64_t max_time;
};

enum class BeamStatus { kDone, kScorerFailed, kAborted };

template <typename Real>
class PrefixBeamSearch {
public:
    PrefixBeamSearch(const Sequence<Real> &seq, const BeamConfig &config, const BeamScratch &scratch)
        : seq_(seq), config_(config), s_(scratch), trie_(scratch.nodes, scratch.table, int64_t(scratch.table_size)),
          selection_(scratch.candidates, config.beam_width), blank_(seq.label.blank()) {}

    // Runs the search and writes the hypotheses; stops early when abort is set.
    BeamStatus run(const std::atomic<bool> &abort, const BeamOut<Real> &out) {
        trie_.reset(int64_t(PrefixTrie::table_size_for(1 + uint64_t(config_.beam_width) * uint64_t(seq_.frames))));
        free_rows_ = 0;
        if (s_.lm_rows)
            for (int32_t r = config_.beam_width - 1; r >= 0; --r) s_.free_rows[free_rows_++] = r;
        size_ = 1;
        s_.beam[0] = BeamEntry{PrefixTrie::kRoot, -1, 0.0, kNegInf, 0.0};  // ln 1 in p_b of the empty prefix
        trie_[PrefixTrie::kRoot].slot = 0;
        if (!score_new_entries()) return BeamStatus::kScorerFailed;

        for (int64_t t = 0; t < seq_.frames && size_ > 0; ++t) {
            if (abort.load(std::memory_order_relaxed)) return BeamStatus::kAborted;
            if (!load_frame(t)) {  // a NaN: no hypothesis can be trusted
                size_ = 0;
                break;
            }
            selection_.clear();
            order_ = 0;
            carry_over();
            collect_classes();
            extend();
            if (!replace_beam(t)) return BeamStatus::kScorerFailed;
        }
        write_hypotheses(out);
        return BeamStatus::kDone;
    }

private:
    static double total(const BeamEntry &e) { return log_add(e.blank, e.label); }

    // ln y^t_k into log_probs; false when the frame holds a NaN.
    bool load_frame(int64_t t) {
        const Real *row = seq_.input_row(t);
        const int64_t stride = seq_.input_class_stride;
        const double log_norm = seq_.log_probs ? 0.0 : log_normaliser(row, seq_.num_classes, stride);
        for (int64_t k = 0; k < seq_.num_classes; ++k) {
            const double y = double(row[k * stride]) - log_norm;
            if (std::isnan(y)) return false;
            s_.log_probs[k] = y;
        }
        return true;
    }

    // The classes that may extend a prefix at this frame, as a heap for
    // class_at().  After carry_over() the selection is usually full: a class
    // whose extension of the most promising prefix cannot beat the worst kept
    // candidate cannot extend any, now or later in the frame (the bar only
    // rises), so most classes are dropped here with one comparison.
    void collect_classes() {
        double reach = kNegInf;  // the highest rank an extension can add y^t_k to
        for (int32_t e = 0; e < size_; ++e)
            reach = std::max(reach, total(s_.beam[e]) + trie_[s_.beam[e].node].lm + s_.beam[e].lm_bound);
        num_extending_ = 0;
        for (int64_t k = 0; k < seq_.num_classes; ++k) {
            const double y = s_.log_probs[k];
            if (k == blank_ || (config_.prune && y < config_.prune_logp) || !selection_.admits(reach + y)) continue;
            s_.classes[num_extending_++] = int32_t(k);
        }
        heap_size_ = num_extending_;
        std::make_heap(s_.classes, s_.classes + heap_size_, less_likely());
    }

    // The class ordering of a frame: by ln y^t_k, then the lower class first.
    auto less_likely() const {
        const double *y = s_.log_probs;
        return [y](int32_t a, int32_t b) { return y[a] < y[b] || (y[a] == y[b] && a > b); };
    }

    // The i-th most probable extending class of the frame.  The classes are
    // sorted lazily, popping a heap only as deep as some prefix's extensions
    // go, so a frame costs O(C + depth log C), not O(C log C).
    int32_t class_at(int64_t i) {
        while (num_extending_ - heap_size_ <= i) std::pop_heap(s_.classes, s_.classes + heap_size_--, less_likely());
        return s_.classes[num_extending_ - 1 - i];  // popped maxima fill the end, best last
    }

    // ext(l, k, t-1) of eq. (3) for the beam entry of l.
    double extension(const BeamEntry &e, int32_t token) const {
        return token == trie_[e.node].token ? e.blank : total(e);
    }

    // The scorer's weighted log-score of appending token to entry e's prefix,
    // with the insertion bonus; 0 without a scorer.
    double lm_step(const BeamEntry &e, int32_t token) const {
        if (e.lm_row < 0) return 0.0;
        return config_.scorer.weight * s_.lm_rows[int64_t(e.lm_row) * seq_.num_classes + token] +
               config_.scorer.insertion_bonus;
    }

    // Every prefix of the beam, carried over to this frame: eqs. (1)-(2).
    void carry_over() {
        const double *y = s_.log_probs;
        for (int32_t e = 0; e < size_; ++e) {
            const BeamEntry &entry = s_.beam[e];
            const PrefixNode &node = trie_[entry.node];
            const double blank = total(entry) + y[blank_];  // eq. (1)
            double label = kNegInf;
            if (entry.node != PrefixTrie::kRoot) {
                double mass = entry.label;
                const int32_t parent_slot = trie_[node.parent].slot;
                if (parent_slot >= 0) mass = log_add(mass, extension(s_.beam[parent_slot], node.token));
                label = mass + y[node.token];  // eq. (2)
            }
            const double rank = log_add(blank, label) + node.lm;
            if (rank > kNegInf) selection_.offer(Candidate{rank, blank, label, node.lm, order_, e, -1});
            ++order_;
        }
    }

    // New prefixes: every entry extended by every class that can still enter
    // the beam, in decreasing ln y^t_k, stopping at the first that cannot.
    void extend() {
        const double *y = s_.log_probs;
        for (int32_t e = 0; e < size_; ++e) {
            const BeamEntry &entry = s_.beam[e];
            const PrefixNode &node = trie_[entry.node];
            const double entry_total = total(entry);
            for (int64_t i = 0; i < num_extending_; ++i) {
                const int32_t k = class_at(i);
                // ext <= total, and the scorer adds at most lm_bound: an upper bound.
                if (!selection_.admits(entry_total + y[k] + node.lm + entry.lm_bound)) break;
                const double label = extension(entry, k) + y[k];
                const double lm = node.lm + lm_step(entry, k);
                const double rank = label + lm;
                if (!(rank > kNegInf) || !selection_.admits(rank)) continue;
                const int32_t child = trie_.find(entry.node, k);
                if (child >= 0 && trie_[child].slot >= 0) continue;  // in the beam: merged by eq. (2)
                selection_.offer(Candidate{rank, kNegInf, label, lm, order_++, e, k});
            }
        }
    }

    // The kept candidates become the beam; new prefixes get trie nodes (and
    // scorer rows).  Returns false when the scorer failed.
    bool replace_beam(int64_t t) {
        const int32_t kept = selection_.sort_best_first();
        for (int32_t e = 0; e < size_; ++e) trie_[s_.beam[e].node].slot = -1;
        for (int32_t i = 0; i < kept; ++i) {
            const Candidate &c = selection_[i];
            BeamEntry &from = s_.beam[c.entry];
            BeamEntry &to = s_.next_beam[i];
            if (c.token < 0) {  // carried over: keeps its node and scorer row
                to = BeamEntry{from.node, from.lm_row, c.blank, c.label, from.lm_bound};
                from.lm_row = -1;
            } else {
                to = BeamEntry{trie_.find_or_add(from.node, c.token, int32_t(t), c.lm), -1, c.blank, c.label, 0.0};
            }
            trie_[to.node].slot = i;
        }
        for (int32_t e = 0; e < size_; ++e)
            if (s_.beam[e].lm_row >= 0) s_.free_rows[free_rows_++] = s_.beam[e].lm_row;  // dropped
        std::swap(s_.beam, s_.next_beam);
        size_ = kept;
        return score_new_entries();
    }

    // Calls the scorer for every beam entry without a row: the root before
    // frame 0, the new prefixes after each frame.
    bool score_new_entries() {
        if (!s_.lm_rows) return true;
        const int64_t classes = seq_.num_classes;
        for (int32_t e = 0; e < size_; ++e) {
            BeamEntry &entry = s_.beam[e];
            if (entry.lm_row >= 0) continue;
            entry.lm_row = s_.free_rows[--free_rows_];
            double *row = s_.lm_rows + int64_t(entry.lm_row) * classes;
            const int64_t length = trie_.read(entry.node, s_.prefix, nullptr);
            if (config_.scorer.score(config_.scorer.context, s_.prefix, length, row) != 0) return false;
            entry.lm_bound = kNegInf;
            for (int64_t k = 0; k < classes; ++k)
                if (k != blank_) entry.lm_bound = std::max(entry.lm_bound, lm_step(entry, int32_t(k)));
        }
        return true;
    }

    // The top_paths entries by final rank (with the scorer's end score), best
    // first; missing ones marked with a count of -1.
    void write_hypotheses(const BeamOut<Real> &out) {
        selection_.clear();
        for (int32_t e = 0; e < size_; ++e) {
            const BeamEntry &entry = s_.beam[e];
            const double end =  // the scorer's end-of-sequence score sits in the blank's column
                entry.lm_row >= 0 ? config_.scorer.weight * s_.lm_rows[int64_t(entry.lm_row) * seq_.num_classes + blank_]
                                  : 0.0;
            const double rank = total(entry) + trie_[entry.node].lm + end;
            selection_.offer(Candidate{rank, entry.blank, entry.label, trie_[entry.node].lm, e, e, -1});
        }
        const int32_t kept = selection_.sort_best_first();
        for (int32_t p = 0; p < config_.top_paths; ++p) {
            if (p >= kept || !(selection_[p].rank > kNegInf)) {
                out.token_counts[p] = -1;
                out.log_probs[p] = out.scores[p] = Real(NAN);
                continue;
            }
            const BeamEntry &entry = s_.beam[selection_[p].entry];
            out.token_counts[p] =
                trie_.read(entry.node, out.tokens + p * out.max_time, out.token_frames + p * out.max_time);
            out.log_probs[p] = Real(total(entry));
            out.scores[p] = Real(selection_[p].rank);
        }
    }

    const Sequence<Real> &seq_;
    const BeamConfig &config_;
    BeamScratch s_;
    PrefixTrie trie_;
    BeamSelection selection_;
    const int32_t blank_;
    int32_t size_ = 0;          // entries in the beam
    int32_t free_rows_ = 0;     // entries in the free_rows stack
    int64_t num_extending_ = 0; // entries in classes
    int64_t heap_size_ = 0;     // classes[0, heap_size_) is still a heap
    int64_t order_ = 0;         // candidates offered this frame
};

}  // namespace fastctc::FASTCTC_ISA
