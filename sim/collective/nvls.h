// In-switch all-reduce (NVLS, NVLink SHARP) on one NVSwitch domain, as NCCL
// runs it: the buffer is split into p portions; GPU c owns portion c.
//   1. reduce-load: the switch reads portion c from every GPU (each GPU
//      sends n/p per portion, n in all) and adds them up;
//   2. the switch returns the sum of portion c to GPU c;
//   3. multicast store: GPU c writes the sum once to the switch, which
//      copies it to all p GPUs.
// Per GPU: n + n/p up and n/p + n down, so on an idle switch with per-GPU
// rate B: t = a + n (1 + 1/p) / B, busbw = 2(p-1)/(p+1) B.
// The switch takes part as helper rank p. `efficiency` is the link class's
// nvls_efficiency (NCCL's nvlsEfficiency): every transfer occupies its links
// for bytes / efficiency.
#pragma once

#include <string_view>
#include <vector>

#include "sim/collective/protocol.h"
#include "sim/collective/schedule.h"
#include "sim/core/error.h"

namespace collsim::collective {

// NCCL's NVLSTree pipelining (NCCL 2.30: ncclNvlsTuning and
// ncclNvlsTreeSm100Tuning in src/transport/nvls.cc, calcCollChunking in
// src/enqueue.cc). NCCL runs `channels` CTAs; each moves its share of every
// head's (GPU's) portion in chunks, so channels x heads chunks are in flight
// at once, and the pipeline's fill and drain cost a few of those waves: the
// constant ~200 us by which the measured 2-node H100 curve (64 MiB to
// 8 GiB) trails its own asymptote. The chunk starts at the largest size and
// halves (to 256, 128, 64, 32 KiB) while the buffer is smaller than 32, 16,
// 4, 1 times channels x heads x chunk.
// NCCL_NVLS_CHUNKSIZE and NCCL_NVLSTREE_MAX_CHUNKSIZE in bytes
// (config::NcclSpec); 0 = NCCL's own choice.
struct NvlsChunkSettings {
  double nvls_chunk_bytes = 0;
  double tree_max_chunk_bytes = 0;
};

struct NvlsTreeChunking {
  int channels = 16;                  // NVLS_NCHANNELS_SM90
  double max_chunk_bytes = 131072.0;  // min(nvlsChunkSize, nvlsTreeMaxChunkSize)
};

// NCCL's choice for `gpu_model` (gpu_models.h names) on `domains` NVLink
// domains of `gpus_per_domain` GPUs under `release`: Hopper (and any model
// collsim does not place) 16 channels and 128 KiB chunks, 64 KiB from 4
// domains; Blackwell the same rule with 32 channels (NVLS_NCHANNELS_SM100)
// before NCCL 2.30.3, and from 2.30.3 NCCL's SM100 table, which also reads
// the NIC rate and the GPU-NIC path. ASSUMPTIONS (named, from NVIDIA's
// reference systems): the NIC is a 400G ConnectX-7 (50 GB/s) for B200 and
// GB200 and an 800G ConnectX-8 (100 GB/s) for B300 and GB300, reached
// through a PCIe switch (PATH_PXB) as on HGX boards.
// `settings`, where given, replace NCCL's chunk and cap (its channels stay):
// the chunk is min(nvls chunk, cap), the cap 64 KiB from 4 domains unless
// set (src/enqueue.cc calcCollChunking).
NvlsTreeChunking nccl_nvls_tree_chunking(std::string_view gpu_model, int domains, int gpus_per_domain,
                                         NcclRelease release = kDefaultNcclRelease, NvlsChunkSettings settings = {});

// The chunk NCCL uses for an all-reduce of `bytes` per rank (see above).
double nccl_nvls_tree_chunk_bytes(const NvlsTreeChunking& chunking, double bytes, int gpus_per_domain);

// What NVLSTree's chunks cost beyond their bytes, in seconds: each channel
// runs every chunk through the same NVLS stages as NVLS inside one domain,
// so a chunk smaller than NVLS's 128 KiB costs it `chunk_cost_s` (the link
// class's nvls_chunk_cost, NvlsChunking below), and the channels pay it
// together: chunk_cost_s x bytes / channels x (1 / chunk - 1 / 128 KiB),
// with the chunk above. NCCL caps NVLSTree's chunk at 64 KiB from 4 domains
// (every release from 2.19.3; Hopper still in 2.30), so large buffers pay
// it there. 0 without a cost or for chunks of 128 KiB and more.
double nvls_tree_chunk_overhead_s(const NvlsTreeChunking& chunking, double chunk_cost_s, double bytes,
                                  int gpus_per_domain);

// NCCL's NVLS chunks inside one NVLink domain (NCCL 2.18.5 to 2.30.7,
// calcCollChunking in src/enqueue.cc; channels from src/transport/nvls.cc):
// `channels` CTAs each take one chunk of every head's (GPU's) portion in
// turn. The chunk starts at 128 KiB (nvlsChunkSize) and drops to 64, 32,
// 16 KiB while the buffer is smaller than 64, 8, 2 times channels x heads
// x chunk. Each chunk smaller than 128 KiB costs its channel
// `chunk_cost_s` beyond its bytes (the link class's nvls_chunk_cost: a
// physical parameter, fitted, config/link_classes.cc; the links' NVLS
// efficiency, NCCL's nvlsEfficiency, stands for the 128 KiB chunks of its
// plateau), and the channels pay it together:
//   overhead = chunk_cost_s x bytes / channels x (1 / chunk - 1 / 128 KiB).
// NCCL's default NVLS chunk (nvlsChunkSize, 128 KiB): the links' NVLS
// efficiency stands for it, so chunks of it and larger cost nothing more.
inline constexpr double kNvlsCostFreeChunk = 131072.0;
struct NvlsChunking {
  int channels = 16;  // NVLS_NCHANNELS_SM90
  double max_chunk_bytes = 131072.0;
  double chunk_cost_s = 0;
};

// NCCL's channels for NVLS inside one domain of `gpu_model` (gpu_models.h
// names) under `release`: Hopper (and any model collsim does not place) 16;
// Blackwell 32 (NVLS_NCHANNELS_SM100), 24 from NCCL 2.27 (NVLS_NCHANNELS_SM100_NVL).
// `settings.nvls_chunk_bytes`, where given, replaces the 128 KiB start.
NvlsChunking nccl_nvls_chunking(std::string_view gpu_model, double chunk_cost_s,
                                NcclRelease release = kDefaultNcclRelease, NvlsChunkSettings settings = {});
// The chunk NCCL uses for an all-reduce of `bytes` per rank on `heads` GPUs.
double nccl_nvls_chunk_bytes(const NvlsChunking& chunking, double bytes, int heads);
// The overhead above, in seconds; 0 without a cost.
double nvls_chunk_overhead_s(const NvlsChunking& chunking, double bytes, int heads);

// The fewest GPUs of one communicator in an NVLink domain (NCCL's node, or
// its MNNVL clique) with which NCCL enables NVLS at all (NVLS, NVLSTree and
// NVLS with CollNet; src/transport/nvls.cc, ncclNvlsInit): 3 before NCCL
// 2.28.7 (it turns NVLS off for "gpuCount <= 2", 2.18.3 to 2.28.3), 2 from
// 2.28.7 ("gpuCount < 2"). With NCCL_ALGO=NVLS on 2 GPUs an older NCCL runs
// its model's fastest other algorithm instead: 2 H100s under NCCL 2.23.4
// reach the ring's 367 GB/s (NVIDIA/nccl issue 1455), where NVLS would give
// 2/3 of it.
int nccl_nvls_min_gpus(NcclRelease release = kDefaultNcclRelease);

// Whether NCCL's NVLS kernels (NVLS and NVLSTree) can reduce `redop` on
// elements of `type` (nccl-tests' names: sum, prod, min, max, avg; float,
// half, bfloat16, int32...): the switch's multimem reductions sum float and
// double, and sum, min or max half, bfloat16 and 32- and 64-bit integers;
// nothing else (prod; avg, which NCCL runs as a pre-multiplied or
// post-divided sum; 8-bit integers and FP8). Source: ncclNvlsSupported in
// NCCL's src/include/device.h (2.18 to 2.30.7), which NCCL consults before
// it weighs NVLS for an all-reduce, reduce-scatter or reduce
// (src/enqueue.cc); an all-gather reduces nothing and always may.
bool nccl_nvls_reduces(std::string_view redop, std::string_view type);

// Pipelining: each portion is cut into slices and every stage's transfers
// queue in order per connection, so loads of slice j+1 overlap the multicast
// of slice j. The fill costs about 1/slices of the transfer time.
struct NvlsOptions {
  // NVLS inside one domain. Named defaults: slices of at least 512 KiB
  // (NCCL Simple's step, src/init.cc) and at most 32 per portion,
  // bounding the flow count (2 p^2 x slices) while keeping the fill under
  // ~3%.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 32;
  // NVLSTree: a piece of one portion on one tree stands for NCCL's chunks
  // of that tree's channels (half of them each): chunk x channels / 2.
  // Named bound: at most 256 pieces per portion and tree (the flow count
  // grows with them); at 8 GiB on 8 GPUs per domain that doubles NCCL's
  // piece, a fill of about 0.5% of the time.
  NvlsTreeChunking tree_chunking{};
  int max_tree_slices = 256;
  // NVLS inside one domain: NCCL's chunks and what they cost (above);
  // NVLSTree reads its chunk_cost_s (nvls_tree_chunk_overhead_s).
  NvlsChunking chunking{};
  // NVLSTree: one slice's transfers repeated (Schedule::repeats); false:
  // every slice written out (what expand() gives).
  bool pipelined = true;
  // NVLSTree: per domain, the positions whose GPU owns a portion and sends
  // it over the network (NCCL's NVLS heads, one per NIC), [d][c] for
  // portion c, the same count in every domain; empty: every GPU. Failed
  // NICs leave out the positions without one (ring.h network_entries):
  // fewer, larger portions, each domain's owners at its own NICs.
  std::vector<std::vector<std::size_t>> owner_positions;
};

// REQUIRES: ranks >= 1, bytes >= 0, 0 < efficiency <= 1.
Schedule nvls_allreduce(int ranks, double bytes, double efficiency, const NvlsOptions& options = {});

// NVLS reduce-scatter and all-gather inside one domain (NCCL runs them from
// 2.19), the two halves of nvls_allreduce, `bytes` being the whole buffer
// (nccl-tests' size) and portion c rank c's part:
//   reduce-scatter: the switch reduce-loads portion c from every GPU and
//     returns the sum to GPU c (per GPU n up, n/p down);
//   all-gather: GPU c stores its portion once and the switch multicasts it
//     to all p GPUs, GPU c included (n/p up, n down).
// So on an idle switch both take n / (B x efficiency) where a ring takes
// (p-1)/p n / B: NVLS moves less in all but more through its busiest
// direction (NCCL's maintainer, NVIDIA/nccl issues 1083 and 1506). NCCL's
// chunks and their cost as for the all-reduce (NvlsOptions::chunking).
// REQUIRES: ranks >= 1, bytes >= 0, 0 < efficiency <= 1.
Schedule nvls_reducescatter(int ranks, double bytes, double efficiency, const NvlsOptions& options = {});
Schedule nvls_allgather(int ranks, double bytes, double efficiency, const NvlsOptions& options = {});

// NVLSTree (NCCL_ALGO NVLSTree): NVLS inside each NVLink domain, NCCL's
// double binary tree between domains (tree.h). With g GPUs per domain, GPU
// c of every domain owns portion c:
//   1. its domain's switch reduce-loads portion c from the domain's g GPUs
//      and returns the domain's sum to GPU c;
//   2. the GPUs c of all domains all-reduce it over the double binary tree
//      (half the portion on each tree), each over its own NIC;
//   3. GPU c multicast-stores the result through its switch to the domain.
// Each NIC carries n/g each way on two domains (NCCL doubles its NVLSTree
// bandwidth there, src/graph/tuning.cc) and at most 2n/g beyond.
// Helper rank ranks + d is domain d's switch (domains in order of their
// first rank). REQUIRES: ranks >= 1, bytes >= 0, 0 < efficiency <= 1;
// error unless there are at least two domains, all of the same size.
Expected<Schedule> nvls_tree_allreduce(int ranks, double bytes, double efficiency,
                                       const std::vector<int>& domain_of_rank, const NvlsOptions& options = {});

}  // namespace collsim::collective
