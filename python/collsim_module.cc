// The Python extension behind the `collsim` package (python/collsim/):
// the public API (include/collsim/collsim.h) with results as dicts. Bad
// input raises ValueError, a failed simulation RuntimeError; the message is
// the command line's (file:line:column, field, expected and found).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "collsim/collsim.h"

namespace py = pybind11;
using collsim::api::CollectiveRequest;
using collsim::api::StepRequest;

namespace {

py::list run_collective(const std::string& topology, const std::string& op, const std::vector<double>& sizes,
                        const std::string& algo, const std::string& proto, const std::string& datatype,
                        const std::string& redop, int ranks, int root, const std::string& backend,
                        const std::vector<std::string>& overrides, const std::string& placement,
                        const std::string& nccl) {
  CollectiveRequest r;
  r.topology = topology;
  r.topology_sets = overrides;
  r.op = op;
  r.algo = algo;
  r.proto = proto;
  r.sizes = sizes;
  r.datatype = datatype;
  r.redop = redop;
  r.ranks = ranks;
  r.root = root;
  r.backend = backend;
  r.placement = placement;
  r.nccl = nccl;
  std::vector<collsim::api::CollectiveRow> rows;
  {
    py::gil_scoped_release unlocked;  // the simulation may take a while
    rows = collsim::api::run_collective(r);
  }
  py::list out;
  for (const auto& row : rows) {
    py::dict d;
    d["op"] = row.op;
    d["algo"] = row.algo;
    d["proto"] = row.proto;
    d["bytes"] = row.bytes;
    d["count"] = row.count;
    d["type"] = row.datatype;
    d["redop"] = row.redop;
    d["root"] = row.root;
    d["ranks"] = row.ranks;
    d["time_us"] = row.time_us;
    d["algbw_GBps"] = row.algbw_GBps;
    d["busbw_GBps"] = row.busbw_GBps;
    d["aggregated"] = row.aggregated;
    d["not_simulated"] = row.not_simulated;
    d["contended"] = row.contended;
    d["buffer_bound"] = row.buffer_bound;
    d["nccl_model_us"] = row.nccl_model_us;
    py::list busiest;
    for (const auto& b : row.busiest) {
      py::dict one;
      one["resource"] = b.resource;
      one["where"] = b.where;
      one["share"] = b.share;
      busiest.append(one);
    }
    d["busiest"] = busiest;
    d["busiest_skipped"] = row.busiest_skipped;
    out.append(d);
  }
  return out;
}

py::dict run_step(const std::string& topology, const std::string& workload, const std::vector<std::string>& overrides,
                  const std::vector<std::string>& workload_overrides, const std::string& backend, bool what_if,
                  bool memory_check, const std::string& placement) {
  StepRequest r;
  r.topology = topology;
  r.workload = workload;
  r.topology_sets = overrides;
  r.workload_sets = workload_overrides;
  r.backend = backend;
  r.what_if = what_if;
  r.memory_check = memory_check;
  r.placement = placement;
  collsim::api::StepResult s;
  {
    py::gil_scoped_release unlocked;
    s = collsim::api::run_step(r);
  }
  py::dict d;
  d["step_time_s"] = s.step_time_s;
  d["compute_s"] = s.compute_s;
  d["bubble_s"] = s.bubble_s;
  d["exposed_communication_s"] = s.exposed_communication_s;
  d["tokens_per_s"] = s.tokens_per_s;
  d["mfu"] = s.mfu;
  d["peak_memory_bytes"] = s.peak_memory_bytes;
  d["hbm_capacity_bytes"] = s.hbm_capacity_bytes;
  d["gpus"] = s.gpus;
  d["json"] = s.json;
  return d;
}

}  // namespace

PYBIND11_MODULE(_collsim, m) {
  m.doc() = "collsim's simulator (use the collsim package, which wraps this module)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const collsim::api::Error& e) {
      if (e.input()) {
        PyErr_SetString(PyExc_ValueError, e.what());
      } else {
        PyErr_SetString(PyExc_RuntimeError, e.what());
      }
    }
  });
  m.def("version", &collsim::api::version);
  m.def("run_collective", &run_collective, py::arg("topology"), py::arg("op"), py::arg("sizes"), py::arg("algo"),
        py::arg("proto"), py::arg("datatype"), py::arg("redop"), py::arg("ranks"), py::arg("root"), py::arg("backend"),
        py::arg("overrides"), py::arg("placement"), py::arg("nccl"));
  m.def("run_step", &run_step, py::arg("topology"), py::arg("workload"), py::arg("overrides"),
        py::arg("workload_overrides"), py::arg("backend"), py::arg("what_if"), py::arg("memory_check"),
        py::arg("placement"));
}
