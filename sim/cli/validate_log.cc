#include "sim/cli/validate_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
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
  const std::vector<std::vector<int>> domains = topology::domains_of(network);
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
  const std::size_t most = *std::max_element(ranks_on.begin(), ranks_on.end());
  auto plural = [](std::size_t n, std::string_view one) { return fmt::format("{} {}{}", n, one, n == 1 ? "" : "s"); };
  if (!trays && !one_per_domain && hosts.size() <= domains.size()) {
    return make_error(fmt::format(
        "--topology: the log's host {} ran {} ranks, more than an NVLink domain of the "
        "topology holds ({} GPUs); --placement chooses the GPUs",
        hosts[static_cast<std::size_t>(std::max_element(ranks_on.begin(), ranks_on.end()) - ranks_on.begin())], most,
        domains.front().size()));
  }
  if (!trays && !one_per_domain) {
    return make_error(fmt::format(
        "--topology: the log's {} on {} ({} on the largest) need one NVLink domain a host, and the topology has {} "
        "(the first holds {} GPUs); --placement chooses the GPUs",
        plural(log.rank_hosts.size(), "rank"), plural(hosts.size(), "host"), most, plural(domains.size(), "domain"),
        domains.front().size()));
  }
  std::vector<std::size_t> domain_of_host(hosts.size());
  if (one_per_domain) {
    for (std::size_t h = 0; h < hosts.size(); ++h) domain_of_host[h] = h;
  } else {
    std::size_t d = 0, used = 0;
    for (std::size_t h = 0; h < hosts.size(); ++h) {
      while (d < domains.size() && used + ranks_on[h] > domains[d].size()) ++d, used = 0;
      if (d == domains.size()) {
        return make_error(fmt::format(
            "--topology: the log's {} on {} trays ({} on the largest) do not fit the topology's {} packed in order "
            "(the first holds {} GPUs); --placement chooses the GPUs",
            plural(log.rank_hosts.size(), "rank"), hosts.size(), most, plural(domains.size(), "NVLink domain"),
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
  const std::string per_host = lo == most ? fmt::format("{} each", lo) : fmt::format("{}-{} each", lo, most);
  std::string how = one_per_domain ? "one host per NVLink domain" : "4-GPU trays packed into NVLink domains in order";
  if (!one_per_domain) {
    std::vector<std::size_t> used;
    for (std::size_t d = 0; d < domains.size(); ++d)
      if (next[d] > 0) used.push_back(next[d]);
    how += fmt::format(" ({} GPUs in {})", fmt::join(used, " + "), plural(used.size(), "domain"));
  }
  const std::string list = gpus_placement(gpus);
  return std::make_pair(
      gpus, fmt::format("{} on {} ({}), {}: {}", plural(log.rank_hosts.size(), "rank"), plural(hosts.size(), "host"),
                        per_host, how, list.size() <= 80 ? list : list.substr(0, 77) + "..."));
}

// NCCL's environment variable -> collsim's `nccl` field and how its value
// reads (validate_log.h).
enum class Reads { kNumber, kEnabled, kDisabled, kAtLeastOne };
struct NcclField {
  std::string_view env, field;
  Reads reads = Reads::kNumber;
};
constexpr NcclField kNcclFields[] = {
    {"NCCL_BUFFSIZE", "buffsize"},
    {"NCCL_IB_QPS_PER_CONNECTION", "ib_qps_per_connection"},
    {"NCCL_IB_AR_THRESHOLD", "ib_ar_threshold"},
    {"NCCL_NVLS_ENABLE", "nvls", Reads::kEnabled},
    {"NCCL_COLLNET_ENABLE", "collnet", Reads::kEnabled},
    {"NCCL_PXN_DISABLE", "pxn", Reads::kDisabled},
    {"NCCL_CROSS_NIC", "cross_nic"},
    {"NCCL_MIN_NCHANNELS", "min_channels"},
    // NCCL reads NCCL_MAX_NCHANNELS=0 as 1; collsim's 0 is no limit.
    {"NCCL_MAX_NCHANNELS", "max_channels", Reads::kAtLeastOne},
    {"NCCL_MIN_CTAS", "min_ctas"},
    {"NCCL_MAX_CTAS", "max_ctas"},
    {"NCCL_P2P_NET_CHUNKSIZE", "p2p_net_chunksize"},
    {"NCCL_NCHANNELS_PER_NET_PEER", "nchannels_per_net_peer"},
    {"NCCL_P2P_PER_CHANNEL_NET_BW", "p2p_per_channel_net_bw"},
    {"NCCL_NVLS_CHUNKSIZE", "nvls_chunksize"},
    {"NCCL_NVLSTREE_MAX_CHUNKSIZE", "nvlstree_max_chunksize"},
};

// A setting two ranks report differently (config::NcclTestsLog::Setting):
// the second value's line and column.
Error differs_between_ranks(const config::NcclTestsLog::Setting& s) {
  return Error{fmt::format("expected {} = {} as line {} reports it (one run's settings), found '{}'", s.name, s.value,
                           s.at.line, s.other_value),
               "", s.other_at};
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

Expected<LogNcclSettings> nccl_sets_of_log(const config::NcclTestsLog& log, const std::vector<std::string>& user_sets) {
  LogNcclSettings out;
  std::vector<std::string> taken, replaced, unmodelled;
  // The user's --set keys as overrides.h reads them ("nccl.buffsize",
  // ".nccl.buffsize"); "nccl" alone replaces the whole map.
  auto user_sets_field = [&](const std::string& key) {
    return std::any_of(user_sets.begin(), user_sets.end(), [&](const std::string& u) {
      const std::size_t from = u.rfind('.', 0) == 0 ? 1 : 0, eq = u.find('=');
      const std::string k = eq == std::string::npos || eq < from ? u.substr(from) : u.substr(from, eq - from);
      return k == key || k == "nccl";
    });
  };
  for (const auto& s : log.nccl_settings) {
    if (s.name == "NCCL_ALGO" || s.name == "NCCL_PROTO") continue;  // the case's algo and proto
    const auto* f = std::find_if(std::begin(kNcclFields), std::end(kNcclFields),
                                 [&](const NcclField& k) { return k.env == s.name; });
    if (f == std::end(kNcclFields)) {
      unmodelled.push_back(
          s.name + "=" + s.value +
          (s.other_value.empty() ? "" : fmt::format(" (line {}: {}, ranks differ)", s.other_at.line, s.other_value)));
      continue;
    }
    const std::string key = "nccl." + std::string(f->field);
    if (user_sets_field(key)) {
      replaced.push_back(s.name + "=" + s.value);
      continue;
    }
    if (!s.other_value.empty()) return differs_between_ranks(s);
    // NCCL prints its parameters as integers (src/misc/param.cc, %lld).
    char* end = nullptr;
    errno = 0;
    std::strtoll(s.value.c_str(), &end, 10);
    if (s.value.empty() || *end != '\0' || errno == ERANGE) {
      return Error{fmt::format("expected an integer for {}, as NCCL prints its settings, found '{}'", s.name, s.value),
                   "", s.at};
    }
    std::string value = s.value;
    if (f->reads == Reads::kEnabled) value = value == "0" ? "false" : "true";
    if (f->reads == Reads::kDisabled) value = value == "0" ? "true" : "false";
    if (f->reads == Reads::kAtLeastOne && value == "0") value = "1";
    out.sets.push_back(key + "=" + value);
    out.marks.push_back(s.at);
    taken.push_back(s.name + "=" + s.value);
  }
  if (!taken.empty()) out.notes.push_back(fmt::format("{} (the log's)", fmt::join(taken, ", ")));
  if (!replaced.empty()) out.notes.push_back(fmt::format("{} (the log's; --set replaces)", fmt::join(replaced, ", ")));
  if (!unmodelled.empty()) out.notes.push_back(fmt::format("not modelled: {}", fmt::join(unmodelled, ", ")));
  return out;
}

Error at_log_setting(Error e, const LogNcclSettings& settings) {
  const auto about = config::set_entry_error(e);
  if (!about) return e;
  for (std::size_t i = 0; i < settings.sets.size(); ++i) {
    if (settings.sets[i] != about->entry) continue;
    return Error{fmt::format("the log's NCCL setting, read as --set {}: {}", about->entry, about->message), "",
                 settings.marks[i]};
  }
  return e;
}

Expected<config::ValidationCase> case_from_nccl_tests_log(const NcclTestsLogRequest& request,
                                                          const config::NcclTestsLog& log,
                                                          const topology::Network& network,
                                                          const LogNcclSettings& settings) {
  // The op: --op, or the binary the log names (nccl-tests 2.16.7 on).
  std::optional<collective::Op> logged;
  if (!log.binary.empty()) {
    logged = collective::parse_op(log.binary);
    if (!logged) {
      return make_error(
          fmt::format("{}: the log's binary is {}, which is not one of the nccl-tests ops collsim runs "
                      "(allreduce, allgather, reducescatter, alltoall, broadcast, reduce, sendrecv)",
                      request.log, log.binary));
    }
  }
  if (request.op.empty() && !logged)
    return make_error("--nccl-tests needs --op: the nccl-tests binary that wrote the log (this log does not name it)");
  const auto op = request.op.empty() ? logged : collective::parse_op(request.op);
  if (!op) {
    return make_error(
        fmt::format("--op: expected one of nccl-tests' ops (allreduce, allgather, reducescatter, "
                    "alltoall, broadcast, reduce, sendrecv), found '{}'",
                    request.op));
  }
  const std::string op_text(collective::op_name(*op));
  if (logged && *logged != *op)
    return make_error(fmt::format("--op {}: the log names its binary {}", request.op, log.binary));
  if (log.groups > 1) {
    return make_error(
        fmt::format("{}: its ranks form {} groups (NCCL_TESTS_SPLIT_MASK), each its own collective; "
                    "collsim compares one communicator's",
                    request.log, log.groups));
  }
  const config::NcclTestsRow& first = log.rows.front();
  // From 2.13.4 nccl-tests prints "none" for the ops that reduce nothing
  // (all-gather, all-to-all, broadcast) and a reduction for the others,
  // send/recv's "sum" too; a root only for broadcast and reduce (its
  // src/*.cu RunTest). Older logs print no or a blank reduction there.
  const bool reduces = collective::takes_redop(*op);
  if (!first.redop.empty() && reduces == (first.redop == "none")) {
    return Error{fmt::format("the log's rows print reduction '{}', which nccl-tests' {} does not: expected {}{}",
                             first.redop, op_text, reduces ? "a reduction (sum, ...)" : "'none'",
                             request.op.empty() ? "" : " (is --op the binary that wrote the log?)"),
                 "", SourceMark{first.at.file, first.at.line, first.redop_column}};
  }
  // Without a printed reduction the columns still tell the op's family:
  // before 2.13 all_gather, alltoall and sendrecv print neither a
  // reduction nor a root and broadcast a root only; 2.13.0-2.13.3 leave
  // the reduction blank for all_gather, alltoall and broadcast.
  if (first.redop.empty() && log.header) {
    using collective::Op;
    const std::vector<Op> family = log.redop_column  ? std::vector<Op>{Op::kAllGather, Op::kAllToAll, Op::kBroadcast}
                                   : log.root_column ? std::vector<Op>{Op::kBroadcast}
                                                     : std::vector<Op>{Op::kAllGather, Op::kAllToAll, Op::kSendRecv};
    if (std::find(family.begin(), family.end(), *op) == family.end()) {
      std::vector<std::string_view> names;
      for (Op o : family) names.push_back(collective::op_name(o));
      return Error{fmt::format("the log's rows print {}, which nccl-tests prints for {} only, not for {}",
                               log.redop_column  ? "a blank reduction"
                               : log.root_column ? "a root and no reduction"
                                                 : "no reduction and no root",
                               fmt::join(names, ", "), op_text),
                   "", first.at};
    }
  }
  const bool rooted = *op == collective::Op::kBroadcast || *op == collective::Op::kReduce;
  if (!rooted && first.root >= 0) {
    return Error{fmt::format("the log's rows have root {}, which only broadcast and reduce print; the op is {}",
                             first.root, op_text),
                 "", SourceMark{first.at.file, first.at.line, first.root_column}};
  }
  auto type_size = datatype_size(first.type);
  if (!type_size) {
    return Error{fmt::format("expected one of nccl-tests' data types, found '{}'", first.type), "",
                 SourceMark{first.at.file, first.at.line, first.type_column}};
  }

  config::ValidationCase c;
  c.name = std::filesystem::path(request.log).filename().string();
  c.topology = request.topology;
  c.topology_field = "--topology";
  c.topology_set = settings.sets;
  c.topology_set.insert(c.topology_set.end(), request.sets.begin(), request.sets.end());
  c.topology_set_at.field = "--set";
  c.op = op_text;
  c.declared_at = SourceMark{FileName(request.log), 0, 0};
  std::vector<std::string> notes = settings.notes;
  // NCCL_ALGO and NCCL_PROTO: the flags, else what NCCL's INFO lines say
  // the run set, which every rank must agree on.
  for (const auto& s : log.nccl_settings) {
    const bool flag = s.name == "NCCL_ALGO" ? !request.algo.empty() : s.name == "NCCL_PROTO" && !request.proto.empty();
    if ((s.name == "NCCL_ALGO" || s.name == "NCCL_PROTO") && !flag && !s.other_value.empty())
      return differs_between_ranks(s);
  }
  c.algo = !request.algo.empty() ? request.algo : !log.nccl_algo.empty() ? lower(log.nccl_algo) : "auto";
  c.proto = !request.proto.empty() ? request.proto : !log.nccl_proto.empty() ? log.nccl_proto : "auto";
  if (request.algo.empty() && !log.nccl_algo.empty()) notes.push_back("NCCL_ALGO=" + log.nccl_algo + " (the log's)");
  if (request.proto.empty() && !log.nccl_proto.empty())
    notes.push_back("NCCL_PROTO=" + log.nccl_proto + " (the log's)");
  c.type = first.type;
  c.redop = reduces ? first.redop : "sum";
  c.root = std::max(0, first.root);
  if (log.iters > 0) c.iters = std::min(log.iters, collective::kMaxNcclTestsIters);
  if (log.blocking) {
    c.iters = 1;  // each iteration waits for the last: one collective's time (collsim collective -z)
    notes.push_back("blocking (-z): one collective's time");
  }
  if (log.empty_rows > 0) notes.push_back(fmt::format("{} rows of 0 bytes left out", log.empty_rows));
  // The release: --nccl, else the log's, else the named default.
  const std::string release = request.nccl.empty() ? log.nccl : request.nccl;
  if (!release.empty()) {
    auto parsed = collective::parse_nccl_release(release);
    if (!parsed) {
      if (!request.nccl.empty()) return make_error("--nccl: " + parsed.error().message);
      return make_error(
          fmt::format("{}: the log ran NCCL {}, outside the releases collsim models ({}); --nccl names "
                      "the release to model",
                      request.log, release, parsed.error().message));
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
