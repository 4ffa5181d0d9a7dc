// A what-if study (`collsim sweep STUDY.yaml`, docs/sweeps.md): a base
// simulation (a training step or one collective) and axes over any input
// parameter, expanded into points. Each point is the base with some
// assignments, and is identified by a hash of everything it depends on.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

enum class StudyKind { kRun, kCollective };

// The base simulation. Field names are those of the study file.
struct StudyBase {
  std::string topology;                    // path, relative to the current directory
  std::vector<std::string> topology_sets;  // "path=value", as --set
  // run
  std::string workload;
  std::vector<std::string> workload_sets;
  std::string algo = "";   // run: "" = the workload's choice; collective: "auto"
  std::string proto = "";  // likewise
  std::string backend = "simgrid";
  bool what_if = true;
  // run: stragglers (workload/stragglers.h) and goodput (docs/goodput.md),
  // as `collsim run --stragglers N --jitter X` and `collsim goodput`'s
  // options; checked by check_study.
  std::string stragglers = "0";  // samples; 0: off
  std::string jitter = "1.1%";
  bool goodput = false;
  std::string restart = "10min", spares = "unlimited", storage_write = "", failure_scale = "1";
  // collective
  std::string op = "allreduce";
  std::string bytes = "1G";  // as nccl-tests' -b (K/M/G powers of two)
  std::string datatype = "float";
  std::string ranks = "all";
  std::string placement = "all";  // run and collective: which GPUs (topology::place)
  std::string nccl;               // collective: the NCCL release modelled (`--nccl`); "": the named default
  // run: other jobs on the cluster at the same time, "FILE@PLACEMENT[@START]"
  // as `collsim run --job` takes, separated by ';'; "" or "none": alone.
  std::string neighbours;
};

// run.neighbours split into its jobs ("" and "none": none).
std::vector<std::string> study_neighbours(const std::string& value);

// One dimension of the grid: a single path, or several zipped ones moving
// together. values[k][p] is the value of paths[p] at step k.
struct StudyAxis {
  std::vector<std::string> paths;
  std::vector<std::vector<std::string>> values;
  SourceMark declared_at;
};

struct StudyPoint {
  int index = 0;
  std::vector<std::pair<std::string, std::string>> assignments;  // path, value (axis order)
};

struct Study {
  std::string name;
  std::string file;
  StudyKind kind = StudyKind::kRun;
  StudyBase base;
  std::vector<StudyAxis> axes;
  SourceMark declared_at;
  // Where each run./collective. field of the base was given ("collective.bytes").
  std::map<std::string, SourceMark> base_marks;

  // Every path of every axis, in order (the results' columns).
  std::vector<std::string> axis_paths() const;
  // The grid, the first axis varying slowest.
  std::vector<StudyPoint> points() const;
};

Expected<Study> load_study_file(const std::string& path);

// The base with a point's assignments applied. Errors name the path
// (e.g. an unknown run.* field); topology./workload. paths become --set
// assignments that the topology and workload readers check.
Expected<StudyBase> apply_point(const Study& study, const StudyPoint& point);

}  // namespace collsim::config
