// The label prefixes of a beam search, as a trie with one node per prefix.
//
// A node is its parent prefix plus one token.  Nodes are found by (parent,
// token) in an open-addressing hash table, so a prefix that drops out of the
// beam and comes back is the same node: a prefix is never represented twice,
// which the search's merging of paths relies on.  Only prefixes that enter
// the beam become nodes, at most beam_width per frame, so the trie of a
// sequence of T frames holds at most 1 + beam_width * T nodes.
#pragma once

#include <cstdint>

namespace fastctc {

struct PrefixNode {
    int32_t parent;  // -1 for the root (the empty prefix)
    int32_t token;   // the last token; -1 for the root
    int32_t frame;   // the frame at which the token was first appended
    int32_t slot;    // index in the current beam, or -1 when not in it
    double lm;       // the scorer's weighted log-score of the whole prefix,
                     // insertion bonuses included (0 without a scorer)
};

class PrefixTrie {
public:
    // nodes: room for capacity nodes; table: table_size int32_t, a power of
    // two at least 2 * capacity, so the table never fills.
    PrefixTrie(PrefixNode *nodes, int32_t *table, int64_t table_size)
        : nodes_(nodes), table_(table), mask_(uint64_t(table_size) - 1) {}

    // Empties the trie down to the root; touches table_size entries, sized
    // for the sequence at hand.
    void reset(int64_t table_size) {
        mask_ = uint64_t(table_size) - 1;
        for (int64_t i = 0; i < table_size; ++i) table_[i] = -1;
        nodes_[0] = PrefixNode{-1, -1, -1, -1, 0.0};
        count_ = 1;
    }

    static constexpr int32_t kRoot = 0;
    PrefixNode &operator[](int32_t node) { return nodes_[node]; }
    const PrefixNode &operator[](int32_t node) const { return nodes_[node]; }

    // The node of parent + token, or -1 when that prefix has no node.
    int32_t find(int32_t parent, int32_t token) const {
        for (uint64_t h = hash(parent, token);; h = (h + 1) & mask_) {
            const int32_t node = table_[h];
            if (node < 0) return -1;
            if (nodes_[node].parent == parent && nodes_[node].token == token) return node;
        }
    }

    // The node of parent + token, created with frame and lm when new.
    int32_t find_or_add(int32_t parent, int32_t token, int32_t frame, double lm) {
        uint64_t h = hash(parent, token);
        for (; table_[h] >= 0; h = (h + 1) & mask_) {
            const int32_t node = table_[h];
            if (nodes_[node].parent == parent && nodes_[node].token == token) return node;
        }
        const int32_t node = count_++;
        nodes_[node] = PrefixNode{parent, token, frame, -1, lm};
        table_[h] = node;
        return node;
    }

    // Writes the prefix's tokens (and, if frames is not null, their frames)
    // oldest first; returns its length.
    int64_t read(int32_t node, int32_t *tokens, int64_t *frames) const {
        int64_t length = 0;
        for (int32_t n = node; n != kRoot; n = nodes_[n].parent) ++length;
        int64_t i = length;
        for (int32_t n = node; n != kRoot; n = nodes_[n].parent) {
            tokens[--i] = nodes_[n].token;
            if (frames) frames[i] = nodes_[n].frame;
        }
        return length;
    }

    // A power of two at least twice the nodes a search of `frames` frames
    // with this beam width can create.
    static uint64_t table_size_for(uint64_t node_capacity) {
        uint64_t size = 1;
        while (size < 2 * node_capacity) size <<= 1;
        return size;
    }

private:
    uint64_t hash(int32_t parent, int32_t token) const {
        uint64_t x = (uint64_t(uint32_t(parent)) << 32) | uint32_t(token);
        x ^= x >> 33;  // a 64-bit mixer (MurmurHash3's finaliser constants)
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ULL;
        x ^= x >> 33;
        return x & mask_;
    }

    PrefixNode *nodes_;
    int32_t *table_;
    uint64_t mask_;
    int32_t count_ = 0;
};

}  // namespace fastctc
