#include "sim/cli/validate_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "sim/cli/collective_sweep.h"
#include "sim/collective/ops.h"
#include "sim/topology/placement.h"

namespace collsim::cli {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Rank r's GPU from the log's hosts (validate_log.h, "Ranks to GPUs"),
// and how they were placed; error when the hosts do not fit.
Expected<std::pair<std::vector<int>, std::string>> place_by_host(const config::NcclTestsLog& log,
                                                                 const topology::Network& network) {
  std::vector<std::vector<int>> domains;  // GPUs of each NVLink domain, domains in order of their first GPU
  std::map<int, std::size_t> index;
  for (int g = 0; g < network.num_gpus(); ++g) {
    auto [it, fresh] = index.emplace(network.nvlink_domain_of(g), domains.size());
    if (fresh) domains.emplace_back();
    domains[it->second].push_back(g);
  }
  std::vector<std::string> hosts;  // in order of their first rank
  std::map<std::string, std::size_t> host_of;
  std::vector<std::size_t> ranks_on;
  for (const auto& h : log.rank_hosts) {
    auto [it, fresh] = host_of.emplace(h, hosts.size());
    if (fresh) hosts.push_back(h), ranks_on.push_back(0);
    ++ranks_on[it->second];
  }
  // Grace-Blackwell racks (gb200, gb300) hold 4-GPU trays, each its own
  // host, in one NVLink domain: their hosts are packed.
  const bool trays = network.num_gpus() > 0 && network.gpu_model(0).rfind("gb", 0) == 0;
  bool one_per_domain = !trays && hosts.size() <= domains.size();
  for (std::size_t h = 0; one_per_domain && h < hosts.size(); ++h) one_per_domain = ranks_on[h] <= domains[h].size();
  std::vector<std::size_t> domain_of_host(hosts.size());
  if (one_per_domain) {
    for (std::size_t h = 0; h < hosts.size(); ++h) domain_of_host[h] = h;
  } else {
    std::size_t d = 0, used = 0;
    for (std::size_t h = 0; h < hosts.size(); ++h) {
      while (d < domains.size() && used + ranks_on[h] > domains[d].size()) ++d, used = 0;
      if (d == domains.size()) {
        return make_error(fmt::format(
            "--topology: the log's {} ranks on {} hosts ({} on the largest) fit neither one host per NVLink domain "
            "nor packed in order into the topology's {} domains (the first of {} GPUs); --placement chooses the GPUs",
            log.rank_hosts.size(), hosts.size(), *std::max_element(ranks_on.begin(), ranks_on.end()), domains.size(),
            domains.front().size()));
      }
      domain_of_host[h] = d;
      used += ranks_on[h];
    }
  }
  std::vector<std::size_t> next(domains.size(), 0);
  std::vector<int> gpus;
  for (const auto& h : log.rank_hosts) {
    const std::size_t d = domain_of_host[host_of[h]];
    gpus.push_back(domains[d][next[d]++]);
  }
  const std::size_t lo = *std::min_element(ranks_on.begin(), ranks_on.end());
  const std::size_t hi = *std::max_element(ranks_on.begin(), ranks_on.end());
  const std::string per_host = lo == hi ? fmt::format("{} each", lo) : fmt::format("{}-{} each", lo, hi);
  return std::make_pair(
      gpus, fmt::format("{} ranks on {} hosts ({}), {}", log.rank_hosts.size(), hosts.size(), per_host,
                        one_per_domain ? "one host per NVLink domain" : "hosts packed into NVLink domains in order"));
}

}  // namespace

std::string gpus_placement(const std::vector<int>& gpus) {
  std::string out = "gpus:";
  for (std::size_t i = 0; i < gpus.size();) {
    std::size_t j = i;
    while (j + 1 < gpus.size() && gpus[j + 1] == gpus[j] + 1) ++j;
    if (i > 0) out += ',';
    out += j > i ? fmt::format("{}-{}", gpus[i], gpus[j]) : fmt::format("{}", gpus[i]);
    i = j + 1;
  }
  return out;
}

Expected<config::ValidationCase> case_from_nccl_tests_log(const NcclTestsLogRequest& request,
                                                          const config::NcclTestsLog& log,
                                                          const topology::Network& network) {
  auto op = collective::parse_op(request.op);
  if (!op)
    return make_error(
        fmt::format("--op: expected one of nccl-tests' ops (allreduce, allgather, "
                    "reducescatter, alltoall, broadcast, reduce, sendrecv), found '{}'",
                    request.op));
  const config::NcclTestsRow& first = log.rows.front();
  // nccl-tests prints "none" for the ops that reduce nothing, and a root
  // only for broadcast and reduce (its src/*.cu RunTest).
  const bool reduces = collective::takes_redop(*op);
  if (reduces == (first.redop == "none")) {
    return Error{fmt::format("the log's rows print reduction '{}', which nccl-tests' {} does not: expected {} "
                             "(is --op the binary that wrote the log?)",
                             first.redop, request.op, reduces ? "a reduction (sum, ...)" : "'none'"),
                 "", first.at};
  }
  const bool rooted = *op == collective::Op::kBroadcast || *op == collective::Op::kReduce;
  if (!rooted && first.root >= 0) {
    return Error{fmt::format("the log's rows have root {}, which only broadcast and reduce print; --op is {}",
                             first.root, request.op),
                 "", first.at};
  }
  auto type_size = datatype_size(first.type);
  if (!type_size) return Error{type_size.error().message, "", first.at};

  config::ValidationCase c;
  c.name = std::filesystem::path(request.log).filename().string();
  c.topology = request.topology;
  c.topology_field = "--topology";
  c.topology_set = request.sets;
  c.topology_set_at.field = "--set";
  c.op = std::string(collective::op_name(*op));
  c.algo = request.algo;
  c.proto = request.proto;
  c.type = first.type;
  c.redop = reduces ? first.redop : "sum";
  c.root = std::max(0, first.root);
  if (log.iters > 0) c.iters = std::min(log.iters, collective::kMaxNcclTestsIters);

  std::vector<std::string> notes;
  // The release: --nccl, else the log's, else the named default.
  const std::string release = request.nccl.empty() ? log.nccl : request.nccl;
  if (!release.empty()) {
    auto parsed = collective::parse_nccl_release(release);
    if (!parsed) {
      if (!request.nccl.empty()) return make_error("--nccl: " + parsed.error().message);
      return make_error(fmt::format("{}: the log ran NCCL {}, and {}; --nccl names the release to model", request.log,
                                    release, parsed.error().message));
    }
    c.nccl = *parsed;
    notes.push_back(
        fmt::format("NCCL {} ({})", collective::to_string(c.nccl), request.nccl.empty() ? "the log's" : "--nccl"));
  } else {
    notes.push_back(fmt::format("NCCL {} (the log names none: collsim's default; --nccl to choose)",
                                collective::to_string(c.nccl)));
  }
  // The GPUs.
  if (!request.placement.empty()) {
    auto placed = topology::place(network, request.placement, {}, 2);
    if (!placed) return make_error("--placement: " + placed.error().message);
    if (!log.rank_hosts.empty() && placed->gpus.size() != log.rank_hosts.size()) {
      return make_error(fmt::format("--placement: {} places {} ranks, and the log ran {}", request.placement,
                                    placed->gpus.size(), log.rank_hosts.size()));
    }
    c.placement = request.placement;
    c.placement_field = "--placement";
    notes.push_back("placement " + request.placement + " (--placement)");
  } else if (log.rank_hosts.empty()) {
    return make_error(
        fmt::format("{}: the log lists no '# Rank N ... on HOST' lines, so its ranks' hosts are "
                    "unknown: --placement chooses the GPUs",
                    request.log));
  } else {
    auto placed = place_by_host(log, network);
    if (!placed) return placed.error();
    c.placement = gpus_placement(placed->first);
    c.placement_field = "--nccl-tests";
    notes.push_back(placed->second);
  }
  const std::string model = network.num_gpus() > 0 ? lower(network.gpu_model(0)) : "";
  if (!log.device.empty() && !model.empty() && lower(log.device).find(model) == std::string::npos)
    notes.push_back(fmt::format("note: the log's GPUs are '{}', the topology's '{}'", log.device, model));
  c.source = fmt::format("nccl-tests log {}: {}", request.log, fmt::join(notes, "; "));

  const bool busbw = request.metric == "busbw";
  if (!busbw && request.metric != "time")
    return make_error(fmt::format("--metric: expected time or busbw, found '{}'", request.metric));
  c.metric = busbw ? "busbw_GBps" : "time_us";
  std::size_t zero = 0;
  for (const auto& row : log.rows) {
    const double value = busbw ? row.busbw_GBps : row.time_us;
    // nccl-tests prints busbw with two decimals: 0.00 below 5 MB/s.
    if (!(value > 0)) {
      ++zero;
      continue;
    }
    c.points.push_back(config::ValidationPoint{row.bytes, value});
  }
  if (c.points.empty())
    return make_error(fmt::format("{}: every row's busbw is 0.00; --metric time compares the times", request.log));
  if (zero > 0) c.source += fmt::format("; {} rows of busbw 0.00 left out (--metric time keeps them)", zero);
  return c;
}

}  // namespace collsim::cli
