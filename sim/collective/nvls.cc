#include "sim/collective/nvls.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "sim/collective/nccl_tables.h"
#include "sim/collective/tree.h"

namespace collsim::collective {

int nccl_nvls_min_gpus(NcclRelease release) { return release < NcclRelease{2, 28, 7} ? 3 : 2; }

bool nccl_nvls_reduces(std::string_view redop, std::string_view type) {
  if (type == "float" || type == "double") return redop == "sum";
  if (type == "half" || type == "bfloat16" || type == "int32" || type == "uint32" || type == "int64" ||
      type == "uint64")
    return redop == "sum" || redop == "min" || redop == "max";
  return false;
}

NvlsTreeChunking nccl_nvls_tree_chunking(std::string_view gpu_model, int domains, int gpus_per_domain,
                                         NcclRelease release, NvlsChunkSettings settings) {
  constexpr double kKiB = 1024;
  const bool blackwell = nccl_arch(gpu_model) == NcclArch::kBlackwell;
  NvlsTreeChunking out;
  // NVLS_NCHANNELS_SM90 (SM100: 32 before 2.30.3); nvlsTreeMaxChunkSize
  // (tree_max, 0 = unset): 64 KiB from 4 nodes, else the chunk (below).
  double chunk = 128 * kKiB, tree_max = 0;
  if (blackwell) out.channels = 32;  // NVLS_NCHANNELS_SM100, more than one node
  // ncclNvlsTreeSm100Tuning (from 2.30.3), with the NIC and path assumed (nvls.h).
  const double nic_GBps = gpu_model == "b300" || gpu_model == "gb300" ? 100 : 50;
  const bool pxb = true;
  const int ppn = gpus_per_domain;
  if (blackwell && release >= NcclRelease{2, 30, 3}) {
    if (domains == 2 && nic_GBps >= 48) {
      tree_max = 128 * kKiB;
      if (ppn <= 4) {
        chunk = tree_max = 256 * kKiB;
      } else if (ppn >= 16 || (ppn <= 8 && pxb && nic_GBps < 96)) {
        tree_max = 64 * kKiB;
      }
    } else if (nic_GBps >= 96) {
      if (ppn <= 8) {
        out.channels = 24;
        chunk = tree_max = 256 * kKiB;
      } else {
        tree_max = ppn < 32 ? 128 * kKiB : 64 * kKiB;
      }
    } else if (nic_GBps >= 48) {
      out.channels = 24;
      tree_max = pxb ? 64 * kKiB : 128 * kKiB;
    }
  }
  // NCCL_NVLS_CHUNKSIZE / NCCL_NVLSTREE_MAX_CHUNKSIZE, where set.
  if (settings.nvls_chunk_bytes > 0 || settings.tree_max_chunk_bytes > 0) {
    chunk = settings.nvls_chunk_bytes > 0 ? settings.nvls_chunk_bytes : 128 * kKiB;
    tree_max = settings.tree_max_chunk_bytes;
  }
  if (tree_max == 0) tree_max = domains >= 4 ? 64 * kKiB : chunk;
  out.max_chunk_bytes = std::min(chunk, tree_max);
  return out;
}

double nccl_nvls_tree_chunk_bytes(const NvlsTreeChunking& chunking, double bytes, int gpus_per_domain) {
  const double concurrent = static_cast<double>(chunking.channels) * gpus_per_domain;
  double chunk = chunking.max_chunk_bytes;
  for (auto [times, floor] : {std::pair{32.0, 262144.0}, {16.0, 131072.0}, {4.0, 65536.0}, {1.0, 32768.0}})
    if (bytes < times * concurrent * chunk && chunk > floor) chunk = floor;
  return chunk;
}

double nvls_tree_chunk_overhead_s(const NvlsTreeChunking& chunking, double chunk_cost_s, double bytes,
                                  int gpus_per_domain) {
  if (!(chunk_cost_s > 0) || !(bytes > 0) || chunking.channels < 1) return 0;
  const double chunk = nccl_nvls_tree_chunk_bytes(chunking, bytes, gpus_per_domain);
  const double per_channel = bytes / chunking.channels;
  return chunk_cost_s * std::max(0.0, per_channel / chunk - per_channel / kNvlsCostFreeChunk);
}

NvlsChunking nccl_nvls_chunking(std::string_view gpu_model, double chunk_cost_s, NcclRelease release,
                                NvlsChunkSettings settings) {
  NvlsChunking out;
  if (settings.nvls_chunk_bytes > 0) out.max_chunk_bytes = settings.nvls_chunk_bytes;
  if (nccl_arch(gpu_model) == NcclArch::kBlackwell) out.channels = release < NcclRelease{2, 27, 0} ? 32 : 24;
  out.chunk_cost_s = chunk_cost_s;
  return out;
}

double nccl_nvls_chunk_bytes(const NvlsChunking& chunking, double bytes, int heads) {
  const double concurrent = static_cast<double>(chunking.channels) * heads;
  double chunk = chunking.max_chunk_bytes;
  for (auto [times, floor] : {std::pair{64.0, 65536.0}, {8.0, 32768.0}, {2.0, 16384.0}})
    if (bytes < times * concurrent * chunk && chunk > floor) chunk = floor;
  return chunk;
}

double nvls_chunk_overhead_s(const NvlsChunking& chunking, double bytes, int heads) {
  if (!(chunking.chunk_cost_s > 0) || heads < 2 || chunking.channels < 1) return 0;
  const double chunk = nccl_nvls_chunk_bytes(chunking, bytes, heads);
  const double per_channel = bytes / chunking.channels;
  return chunking.chunk_cost_s * std::max(0.0, per_channel / chunk - per_channel / kNvlsCostFreeChunk);
}

namespace {

// What NVLS's schedules in one domain share: the switch as helper rank p,
// NCCL's chunk cost, each portion cut into slices, and each stage's
// transfers queued in order on their connection, so slice j + 1 loads
// while slice j is multicast (up- and downlinks busy together).
class NvlsStages {
 public:
  enum Stage { kLoad, kBack, kStore, kMulticast };
  NvlsStages(const char* op, int ranks, double bytes, double efficiency, const NvlsOptions& options)
      : s_(empty_schedule(op, "nvls", ranks, bytes, ranks)), queued_(s_) {
    s_.helper_ranks = 1;
    s_.latency_family = LatencyFamily::kNvls;
    if (ranks < 2) return;
    s_.chunk_overhead_s = nvls_chunk_overhead_s(options.chunking, bytes, ranks);
    const double portion = bytes / ranks;
    slices_ = piece_count(portion, options.min_slice_bytes, options.max_slices);
    wire_ = portion / slices_ / efficiency;
  }
  NvlsStages(const NvlsStages&) = delete;  // queued_ refers to s_
  NvlsStages& operator=(const NvlsStages&) = delete;
  int slices() const { return slices_; }  // 0 below two ranks: nothing to move
  int add(Stage stage, int src, int dst, int chunk, int slice, Action action, std::vector<int> deps,
          bool addend = false) {
    return queued_.add(stage, Transfer{.src = src,
                                       .dst = dst,
                                       .bytes = wire_,
                                       .chunk = chunk,
                                       .slice = slice,
                                       .action = action,
                                       .deps = std::move(deps),
                                       .switch_addend = addend});
  }
  // Portion c's reduce-load from every GPU, each an input of the switch's
  // sum (Schedule::switch_inputs), for reduce_to_owner.
  std::vector<int> load_portion(int c, int slice) {
    s_.switch_inputs = s_.ranks;  // every load passes the engines
    std::vector<int> loads;
    for (int g = 0; g < s_.ranks; ++g) loads.push_back(add(kLoad, g, s_.ranks, c, slice, Action::kReduce, {}, true));
    return loads;
  }
  // The sum of portion c, once `loads` arrived, back to its owner.
  int reduce_to_owner(int c, int slice, std::vector<int> loads) {
    return add(kBack, s_.ranks, c, c, slice, Action::kCopy, std::move(loads));
  }
  // The owner's multicast store of portion c, after `deps`, to every GPU.
  void multicast(int c, int slice, std::vector<int> deps) {
    const int store = add(kStore, c, s_.ranks, c, slice, Action::kCopy, std::move(deps));
    for (int g = 0; g < s_.ranks; ++g) add(kMulticast, s_.ranks, g, c, slice, Action::kCopy, {store});
  }
  Schedule take() { return std::move(s_); }

 private:
  Schedule s_;
  QueuedAppender queued_;
  int slices_ = 0;
  double wire_ = 0;
};

}  // namespace

Schedule nvls_allreduce(int ranks, double bytes, double efficiency, const NvlsOptions& options) {
  NvlsStages b("allreduce", ranks, bytes, efficiency, options);
  for (int slice = 0; slice < b.slices(); ++slice) {
    // 1. every portion's reduce-load; 2. each sum to its owner; 3. the
    // owner's multicast store to all.
    std::vector<std::vector<int>> loads(ranks);
    for (int c = 0; c < ranks; ++c) loads[c] = b.load_portion(c, slice);
    for (int c = 0; c < ranks; ++c) b.multicast(c, slice, {b.reduce_to_owner(c, slice, std::move(loads[c]))});
  }
  return b.take();
}

Schedule nvls_reducescatter(int ranks, double bytes, double efficiency, const NvlsOptions& options) {
  NvlsStages b("reducescatter", ranks, bytes, efficiency, options);
  for (int slice = 0; slice < b.slices(); ++slice)
    for (int c = 0; c < ranks; ++c) b.reduce_to_owner(c, slice, b.load_portion(c, slice));
  return b.take();
}

Schedule nvls_allgather(int ranks, double bytes, double efficiency, const NvlsOptions& options) {
  NvlsStages b("allgather", ranks, bytes, efficiency, options);
  for (int slice = 0; slice < b.slices(); ++slice)
    for (int c = 0; c < ranks; ++c) b.multicast(c, slice, {});
  return b.take();
}

Expected<Schedule> nvls_tree_allreduce(int ranks, double bytes, double efficiency,
                                       const std::vector<int>& domain_of_rank, const NvlsOptions& options) {
  const auto domains = group_by_domain(domain_of_rank);
  const int nd = static_cast<int>(domains.size());
  if (nd < 2) return make_error("nvlstree joins several NVLink domains, and these ranks are in one (use nvls)");
  const int g = static_cast<int>(domains.front().size());
  for (const auto& d : domains) {
    if (static_cast<int>(d.size()) != g) {
      return make_error(
          fmt::format("nvlstree needs the same number of ranks in every NVLink domain ({} and {})", g, d.size()));
    }
  }
  // The portions' owners (NvlsOptions::owner_positions).
  const int owners = options.owner_positions.empty() ? g : static_cast<int>(options.owner_positions.front().size());
  const double half = bytes / owners / 2;  // of a portion, on one tree
  const double nccl_piece =
      nccl_nvls_tree_chunk_bytes(options.tree_chunking, bytes, g) * options.tree_chunking.channels / 2.0;
  const ChunkPieces pieces = chunk_pieces(half, nccl_piece, options.max_tree_slices);  // whole chunks, remainder
  const int slices = pieces.count;
  Schedule s = empty_schedule("allreduce", "nvlstree", ranks, bytes, owners * 2 * slices);  // (c, t, slice)
  s.latency_family = LatencyFamily::kNvlsTree;
  s.chunk_overhead_s = nvls_tree_chunk_overhead_s(options.tree_chunking, options.chunking.chunk_cost_s, bytes, g);
  s.helper_ranks = nd;
  if (g > 1) s.switch_inputs = g;  // every load passes the engines (Schedule::switch_inputs)
  for (const auto& d : domains) s.helper_near_rank.push_back(d.front());

  const TreeShape trees[2] = {tree_shape(binary_tree_parents(nd)), tree_shape(mirrored_tree_parents(nd))};

  // Streams: the NVLS stages and each tree's traffic queue apart, each
  // connection (stream, src, dst) behind its previous transfer. Indexed
  // here, not hashed (QueuedAppender): a load's is its rank's (its
  // switch is its domain's), a multicast's its receiver's, a sum's back
  // and a store's their (domain, portion)'s, and a tree edge's its
  // (portion, tree, domain, direction)'s: owners differ per portion.
  // Every slice repeats the same transfers: pipelined, one is written and
  // repeated (Schedule::repeats; its chunk is (c, t) * slices + slice).
  const auto per_domain = static_cast<std::size_t>(nd) * static_cast<std::size_t>(g);
  std::vector<int> last_load(static_cast<std::size_t>(ranks), -1), last_multicast(last_load);
  std::vector<int> last_back(per_domain, -1), last_store(per_domain, -1), last_tree(4 * per_domain, -1);
  const int written = options.pipelined ? 1 : slices;
  if (options.pipelined && slices > 1) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
    s.last_copy_fraction = pieces.last_fraction();
  }
  // Per slice, portion and tree: each domain's loads, sum back, store and
  // multicast, and each tree edge up and down.
  s.transfers.reserve(static_cast<std::size_t>(written) * static_cast<std::size_t>(g) * 2 *
                      (static_cast<std::size_t>(nd) * (2 * static_cast<std::size_t>(g) + 2) + 2 * (nd - 1)));
  for (int slice = 0; slice < written; ++slice) {
    const double piece = pieces.slice_bytes(slice, options.pipelined);
    const double wire = piece / efficiency;  // through the switch
    for (int c = 0; c < owners; ++c) {
      for (int t = 0; t < 2; ++t) {
        const int chunk = (c * 2 + t) * slices + slice;
        auto add = [&](int& last, int src, int dst, double b, Action action, DepList deps, int channel,
                       bool addend = false) {
          return append_queued(s, last,
                               Transfer{.src = src,
                                        .dst = dst,
                                        .bytes = b,
                                        .chunk = chunk,
                                        .action = action,
                                        .deps = std::move(deps),
                                        .channel = channel,
                                        .switch_addend = addend});
        };
        auto at = [&](std::vector<int>& last, int d) -> int& {
          return last[static_cast<std::size_t>(d) * static_cast<std::size_t>(g) + static_cast<std::size_t>(c)];
        };
        auto edge = [&](int d, int direction) -> int& {
          return last_tree[((static_cast<std::size_t>(c) * 2 + static_cast<std::size_t>(t)) *
                                static_cast<std::size_t>(nd) +
                            static_cast<std::size_t>(d)) *
                               2 +
                           static_cast<std::size_t>(direction)];
        };
        auto owner = [&](int d) {
          return domains[static_cast<std::size_t>(d)][kept_position(options.owner_positions, d, c)];
        };
        const int channel = 2 * c + t;  // the network tree's channel (channel shares)
        // 1. each domain's sum of the portion, at its owner.
        std::vector<int> back(nd);
        for (int d = 0; d < nd; ++d) {
          std::vector<int> loads;
          for (int r : domains[static_cast<std::size_t>(d)])
            loads.push_back(
                add(last_load[static_cast<std::size_t>(r)], r, ranks + d, wire, Action::kReduce, {}, -1, g > 1));
          back[d] = add(at(last_back, d), ranks + d, owner(d), wire, Action::kCopy, loads, -1);
        }
        // 2. the tree between the owners.
        const TreeShape& tree = trees[t];
        std::vector<int> up(nd, -1), down(nd, -1);
        for (int d : tree.leaves_first) {
          if (d == tree.root) continue;
          // The parent's owner adds into its domain's sum, so that must be there.
          DepList deps{back[d], back[tree.parent[d]]};
          for (int k : tree.children[d]) deps.push_back(up[k]);
          up[d] = add(edge(d, 0), owner(d), owner(tree.parent[d]), piece, Action::kReduce, deps, channel);
        }
        for (auto it = tree.leaves_first.rbegin(); it != tree.leaves_first.rend(); ++it) {
          const int d = *it;
          std::vector<int> ready;  // the owner holds the result
          if (d == tree.root) {
            ready.push_back(back[d]);
            for (int k : tree.children[d]) ready.push_back(up[k]);
          } else {
            ready.push_back(down[d]);
          }
          std::vector<int> sent;  // the owner's sends down, which read what the multicast rewrites
          for (int k : tree.children[d]) {
            down[k] = add(edge(k, 1), owner(d), owner(k), piece, Action::kCopy, ready, channel);
            sent.push_back(down[k]);
          }
          // 3. the multicast store to the domain (the owner included).
          const int store = add(at(last_store, d), owner(d), ranks + d, wire, Action::kCopy, ready, -1);
          for (int r : domains[static_cast<std::size_t>(d)]) {
            DepList deps{store};
            if (r == owner(d))
              for (int k : sent) deps.push_back(k);
            add(last_multicast[static_cast<std::size_t>(r)], ranks + d, r, wire, Action::kCopy, deps, -1);
          }
        }
      }
    }
  }
  return s;
}

}  // namespace collsim::collective
