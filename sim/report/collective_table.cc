#include "sim/report/collective_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>

#include "sim/report/json.h"

namespace collsim::report {

namespace {

// "1048576, 67108864": the sizes of the rows `holds` is true of (a row's
// flag, as std::mem_fn(&CollectiveRow::contended), or any predicate).
template <class Holds>
std::string sizes_where(const std::vector<CollectiveRow>& rows, Holds holds) {
  std::string out;
  for (const auto& r : rows)
    if (holds(r)) out += fmt::format("{}{:.0f}", out.empty() ? "" : ", ", r.bytes);
  return out;
}

// `v` right-aligned in `width` characters with two decimals, or fewer
// when it would not fit, and whole and wider past that (nccl-tests widens
// its column too; an exponent kept two digits of a 10 s broadcast): columns
// still split on spaces.
std::string fitted(double v, int width) {
  for (int decimals = 2; decimals > 0; --decimals) {
    std::string s = fmt::format("{:>{}.{}f}", v, width, decimals);
    if (static_cast<int>(s.size()) <= width) return s;
  }
  return fmt::format("{:>{}.0f}", v, width);
}

}  // namespace

std::string format_collective_table(const CollectiveHeader& h, const std::vector<CollectiveRow>& rows) {
  std::string out;
  out += fmt::format("# collsim collective: {} (algorithm {}) on {} ranks of {}, backend {}\n", h.op, h.algo, h.ranks,
                     h.topology, h.backend);
  if (!h.failures.empty()) {
    out += fmt::format("# failures: {}\n", h.failures);
    // A degraded cable still carries its traffic; a failed NIC's moves to
    // NVLink peers (PXN): the first can cost more (docs/topology-format.md).
    if (h.degraded)
      out +=
          "#   NCCL keeps sending over a degraded link at its lower rate, while a failed NIC's traffic moves to\n"
          "#   NVLink peers' NICs: a half-speed NIC can cost more than a dead one (docs/topology-format.md)\n";
  }
  if (!h.placement.empty()) out += fmt::format("# placement: {}\n", h.placement);
  if (!h.nccl.empty()) out += fmt::format("# NCCL release modelled: {}\n", h.nccl);
  if (!h.overrides.empty()) out += fmt::format("# --set: {}\n", fmt::join(h.overrides, " "));
  out +=
      "# nccl-tests' columns; in-place = out-of-place (a simulation moves the same bytes), #wrong N/A (no data\n"
      "# is checked); algbw = size / time, busbw = algbw x nccl-tests' factor for the op; GB/s = 1e9 bytes/s\n#\n";
  std::string placement = fmt::format("# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:^29}  {:^29}", "", "", "", "", "",
                                      "out-of-place", "in-place");
  placement.erase(placement.find_last_not_of(' ') + 1);
  out += placement + "\n";
  out += fmt::format(
      "# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6}  {:>6} {:>6}\n",
      "size", "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw", "#wrong",
      "algo", "proto");
  out += fmt::format("# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}\n", "(B)",
                     "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)");
  double busbw_sum = 0;
  for (const auto& r : rows) {
    const std::string measured =
        fmt::format("{}  {}  {}     N/A", fitted(r.time_us, 7), fitted(r.algbw_GBps, 6), fitted(r.busbw_GBps, 6));
    out += fmt::format("{:>12.0f}  {:>12}  {:>8}  {:>6}  {:>6}  {}  {}  {:>6} {:>6}\n", r.bytes, r.count, r.type,
                       r.redop, r.root, measured, measured, r.algo, r.proto);
    busbw_sum += r.busbw_GBps;
  }
  if (!rows.empty()) {
    out += fmt::format("# Avg bus bandwidth    : {:.3f}\n", busbw_sum / static_cast<double>(rows.size()));
  }
  // A note for the sizes where a row's flag is set (one {} for them).
  auto note = [&](auto holds, std::string_view text) {
    const std::string sizes = sizes_where(rows, holds);
    if (!sizes.empty()) out += fmt::format(fmt::runtime(text), sizes);
  };
  note(std::mem_fn(&CollectiveRow::contended),
       "# contended: at {} bytes the schedule's transfers share links (at once, or the busiest\n"
       "#   link's load set the time): the closed form is least certain there and the\n"
       "#   flow-level SimGrid backend may be slower (docs/architecture.md)\n");
  note(std::mem_fn(&CollectiveRow::aggregated),
       "# aggregated: at {} bytes SimGrid simulated one step of the rings (one slice of a tree,\n"
       "#   chain or NVLSTree) with all its flows and repeated it (--simgrid-aggregate-above):\n"
       "#   within 5% of the full simulation on the clusters measured, mostly exact\n"
       "#   (docs/performance.md)\n");
  // Point-to-point keeps its chunks in flight, not NCCL_BUFFSIZE.
  const bool p2p = std::any_of(rows.begin(), rows.end(), [](const CollectiveRow& r) {
    return r.buffer_bound && (r.op == "alltoall" || r.op == "sendrecv");
  });
  note(std::mem_fn(&CollectiveRow::buffer_bound),
       p2p ? "# buffer-bound: at {} bytes NCCL's buffers held messages across the network below\n"
             "#   their links' rate: each of a message's channels keeps 8 chunks in flight a round\n"
             "#   trip; larger chunks (--set nccl.p2p_net_chunksize=, NCCL_P2P_NET_CHUNKSIZE) or more\n"
             "#   channels a peer (--set nccl.nchannels_per_net_peer=, within nccl.p2p_channels; -v\n"
             "#   names them) help (docs/validation.md, Finite buffers)\n"
           : "# buffer-bound: at {} bytes NCCL's buffer held transfers across the network below\n"
             "#   their links' rate: a round trip per slot (Simple's slots on a ring, or the window\n"
             "#   over a long route), or a cost per network message where Simple's slots cut a step\n"
             "#   into several; a larger NCCL_BUFFSIZE (--set nccl.buffsize=) helps Simple where a\n"
             "#   step fills its slots (LL's and LL128's buffers are their own; a broadcast's or\n"
             "#   reduce's larger step lengthens its fill) (docs/validation.md, Finite buffers)\n");
  // Where NCCL's proxy operations are a large share of a point-to-point
  // row's time (a quarter: the share where a faster NIC's extra channels a
  // peer already cost more than they carry).
  note([](const CollectiveRow& r) { return r.time_us > 0 && r.proxy_us > 0.25 * r.time_us; },
       "# proxy: at {} bytes NCCL's proxy operations take over a quarter of the time: one per\n"
       "#   part of each message to another node and direction (--json proxy_us), at the link\n"
       "#   class's p2p_op_cost; more channels a peer (a faster NIC's, nccl.nchannels_per_net_peer)\n"
       "#   mean more parts (docs/validation-efa.md, All-to-all and NCCL's proxy)\n");
  // Where a larger size takes less time than the one before it (the same
  // op, type, reduction and root): NCCL's own choices step there.
  std::string falls;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto &a = rows[i - 1], &b = rows[i];
    if (a.op == b.op && a.type == b.type && a.redop == b.redop && a.root == b.root && b.bytes > a.bytes &&
        b.time_us < a.time_us * (1 - 1e-3))
      falls += fmt::format("{}{:.0f} to {:.0f}", falls.empty() ? "" : ", ", a.bytes, b.bytes);
  }
  if (!falls.empty()) {
    out += fmt::format(
        "# time falls with size from {} bytes: NCCL's algorithm, protocol, channels or chunk size\n"
        "#   change there (-v names them), and the larger message runs more efficiently, as on NCCL{}\n",
        falls,
        std::any_of(rows.begin(), rows.end(), [](const CollectiveRow& r) { return r.loop_iterations > 0; })
            ? ";\n#   or nccl-tests' loop overlaps one size's iterations more than the other's"
            : "");
  }
  // nccl-tests' loop hides a chain's length (engine/nccl_tests_loop.h).
  auto chained = [](const CollectiveRow& r) { return (r.op == "broadcast" || r.op == "reduce") && r.ranks > 2; };
  const auto looped =
      std::find_if(rows.begin(), rows.end(), [](const CollectiveRow& r) { return r.loop_iterations > 0; });
  if (looped != rows.end()) {
    out += fmt::format(
        "# broadcast, reduce: the time is nccl-tests' per iteration of {} back to back (-n), averaged\n"
        "#   over the ranks: those near the chain's start begin the next while the last still runs\n"
        "#   down it (replayed from one run; --json single_us is one collective's time, what a\n"
        "#   training step waits for){}{}\n",
        looped->loop_iterations,
        std::any_of(rows.begin(), rows.end(), [](const CollectiveRow& r) { return r.loop_copies > 0; })
            ? ";\n#   rows too long to replay whole were replayed with fewer of their slices: the fill\n"
              "#   the loop hides does not depend on how many follow (loop_copies in --json)"
            : "",
        std::any_of(rows.begin(), rows.end(), [](const CollectiveRow& r) { return r.loop_skipped; })
            ? ";\n#   rows too large to replay are one collective's (loop_skipped in --json)"
            : "");
  } else if (std::any_of(rows.begin(), rows.end(), [](const CollectiveRow& r) { return r.loop_skipped; })) {
    out +=
        "# broadcast, reduce: -n asked for nccl-tests' loop, but these schedules are too large to replay\n"
        "#   (loop_skipped in --json): the time is one collective's, along its whole chain of ranks\n";
  } else if (std::any_of(rows.begin(), rows.end(), chained)) {
    out +=
        "# broadcast, reduce: the time is one collective's, along its whole chain of ranks; nccl-tests\n"
        "#   (default -n 20 -z 0) times its iterations back to back, and the ranks at the chain's start\n"
        "#   begin the next one while the last still runs down the chain, so where latency dominates\n"
        "#   it prints much less: -n 20 gives what it would (docs/validation-cloud.md)\n";
  }
  // What binds at each size.
  const bool any_busy = std::any_of(rows.begin(), rows.end(),
                                    [](const CollectiveRow& r) { return !r.busiest.empty() || r.busiest_skipped; });
  if (any_busy) {
    out +=
        "# busiest: per class of resource, the one busy longest (its wire bytes, or an NVSwitch's\n"
        "#   adds, over its rate) as a share of the time; near 100% it binds; well below, something\n"
        "#   else does: latency, NCCL's per-channel caps (network channels, queue pairs, the tree),\n"
        "#   its buffer, chunk costs, a pipeline's fill, or links shared unevenly\n";
    // Sizes right-aligned to the widest (a 16 GiB row has 11 digits).
    std::size_t width = 10;
    for (const auto& r : rows) width = std::max(width, fmt::format("{:.0f}", r.bytes).size());
    for (const auto& r : rows) {
      if (r.busiest.empty() && !r.busiest_skipped) continue;
      std::string line = fmt::format("# {:>{}.0f}", r.bytes, width);
      if (r.busiest_skipped)
        line += fmt::format(
            "  not shown: finding the busiest resource would route more than {:.0e} connections ({:.0e} pairs for "
            "an all-to-all); the time above is unaffected",
            kBusiestMaxConnections, kBusiestMaxPairs);
      for (const auto& b : r.busiest)
        line += fmt::format("  {:>3.0f}% {} ({})", std::min(b.share, 9.99) * 100, b.resource, b.where);
      out += line + "\n";
    }
  }
  // Candidates the tuner did not simulate: each reason once, with its sizes.
  std::vector<std::pair<std::string, std::string>> skipped;  // reason, sizes
  for (const auto& r : rows) {
    for (const auto& why : r.skipped) {
      auto it = std::find_if(skipped.begin(), skipped.end(), [&](const auto& x) { return x.first == why; });
      if (it == skipped.end()) it = skipped.insert(skipped.end(), {why, ""});
      it->second += fmt::format("{}{:.0f}", it->second.empty() ? "" : ", ", r.bytes);
    }
  }
  for (const auto& [why, sizes] : skipped) {
    const auto count = static_cast<std::size_t>(std::count(sizes.begin(), sizes.end(), ',') + 1);
    out +=
        fmt::format("# not simulated {}: {}\n", count == rows.size() ? "at any size" : "at " + sizes + " bytes", why);
  }
  return out;
}

std::string collective_json(const CollectiveHeader& h, const std::vector<CollectiveRow>& rows) {
  JsonWriter w;
  w.begin_object();
  w.key("topology").value(h.topology);
  w.key("backend").value(h.backend);
  if (!h.failures.empty()) w.key("failures").value(h.failures);
  if (!h.placement.empty()) w.key("placement").value(h.placement);
  if (!h.nccl.empty()) w.key("nccl").value(h.nccl);
  if (!h.overrides.empty()) {
    w.key("overrides").begin_array();
    for (const auto& o : h.overrides) w.value(o);
    w.end_array();
  }
  w.key("results").begin_array();
  for (const auto& r : rows) {
    w.begin_object();
    w.key("op").value(r.op);
    w.key("algo").value(r.algo);
    w.key("proto").value(r.proto);
    w.key("bytes").value(r.bytes);
    w.key("count").value(static_cast<double>(r.count));
    w.key("type").value(r.type);
    w.key("redop").value(r.redop);
    w.key("root").value(static_cast<double>(r.root));
    w.key("ranks").value(static_cast<double>(r.ranks));
    w.key("time_us").value(r.time_us);
    if (r.loop_iterations > 0) {
      w.key("single_us").value(r.single_us);
      w.key("loop_iterations").value(static_cast<double>(r.loop_iterations));
      if (r.loop_copies > 0) w.key("loop_copies").value(static_cast<double>(r.loop_copies));
    }
    if (r.loop_skipped) w.key("loop_skipped").value(true);
    w.key("algbw_GBps").value(r.algbw_GBps);
    w.key("busbw_GBps").value(r.busbw_GBps);
    w.key("contended").value(r.contended);
    w.key("aggregated").value(r.aggregated);
    w.key("buffer_bound").value(r.buffer_bound);
    if (r.proxy_us > 0) w.key("proxy_us").value(r.proxy_us);
    w.key("nccl_model_us").value(r.nccl_model_us);
    w.key("skipped").begin_array();
    for (const auto& why : r.skipped) w.value(why);
    w.end_array();
    w.key("busiest").begin_array();
    for (const auto& b : r.busiest) {
      w.begin_object();
      w.key("resource").value(b.resource);
      w.key("where").value(b.where);
      w.key("share").value(b.share);
      w.end_object();
    }
    w.end_array();
    if (r.busiest_skipped) w.key("busiest_skipped").value(true);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

std::string nccl_tests_json(const CollectiveHeader& h, const std::vector<CollectiveRow>& rows) {
  JsonWriter w;
  w.begin_object();
  w.key("config").begin_object();
  w.key("ngpus").value(static_cast<double>(h.ranks));
  w.key("minimum_bytes").value(rows.empty() ? 0.0 : rows.front().bytes);
  w.key("maximum_bytes").value(rows.empty() ? 0.0 : rows.back().bytes);
  w.key("iterations").value(1.0);
  w.key("validation").value(0.0);
  w.end_object();
  w.key("results").begin_array();
  double busbw_sum = 0;
  for (const auto& r : rows) {
    w.begin_object();
    w.key("size").value(r.bytes);
    w.key("count").value(static_cast<double>(r.count));
    w.key("type").value(r.type);
    w.key("redop").value(r.redop);
    w.key("root").value(fmt::format("{:>6}", r.root));  // a padded string, as nccl-tests writes it
    for (const char* placement : {"out_of_place", "in_place"}) {
      w.key(placement).begin_object();
      w.key("time").value(r.time_us);
      w.key("alg_bw").value(r.algbw_GBps);
      w.key("bus_bw").value(r.busbw_GBps);
      w.key("nwrong").null();
      w.end_object();
    }
    w.key("actual_iterations").value(1.0);
    w.key("experiment_name").value("");
    w.key("collsim").begin_object();
    w.key("topology").value(h.topology);
    w.key("backend").value(h.backend);
    w.key("op").value(r.op);
    w.key("algo").value(r.algo);
    w.key("proto").value(r.proto);
    w.end_object();
    w.end_object();
    busbw_sum += r.busbw_GBps;
  }
  w.end_array();
  w.key("average_bus_bandwidth").begin_object();
  w.key("bandwidth").value(rows.empty() ? 0.0 : busbw_sum / static_cast<double>(rows.size()));
  w.key("okay").value("unchecked");
  w.end_object();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace collsim::report
