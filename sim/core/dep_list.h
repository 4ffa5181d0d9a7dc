// A transfer's dependencies (indices of earlier transfers): a list of ints
// that holds up to three in place and more on the heap. Schedules hold
// millions of transfers (a tree over 131,072 GPUs writes 4.2 M per slice)
// with at most three deps each, almost always; a std::vector would cost 24
// bytes plus a heap block per transfer, this costs 16 bytes and none.
//
// The subset of std::vector<int>'s interface schedules use: push_back,
// clear, size, empty, front, operator[], iteration (contiguous: begin() is
// an int*), == (element-wise), construction and assignment from a
// std::vector<int> or a braced list. Copying copies the elements.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

namespace collsim {

class DepList {
 public:
  DepList() = default;
  DepList(std::initializer_list<int> values) { assign(values.begin(), values.size()); }
  DepList(const std::vector<int>& values) { assign(values.data(), values.size()); }  // NOLINT: implicit, as a vector
  DepList(const DepList& other) { assign(other.data(), other.size()); }
  DepList(DepList&& other) noexcept : size_(other.size_) {
    std::memcpy(slots_, other.slots_, sizeof slots_);
    other.size_ = 0;
  }
  DepList& operator=(const DepList& other) {
    if (this != &other) {
      clear();
      assign(other.data(), other.size());
    }
    return *this;
  }
  DepList& operator=(DepList&& other) noexcept {
    if (this != &other) {
      release();
      size_ = other.size_;
      std::memcpy(slots_, other.slots_, sizeof slots_);
      other.size_ = 0;
    }
    return *this;
  }
  ~DepList() { release(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int* data() { return on_heap() ? heap() : slots_; }
  const int* data() const { return on_heap() ? heap() : slots_; }
  int* begin() { return data(); }
  int* end() { return data() + size_; }
  const int* begin() const { return data(); }
  const int* end() const { return data() + size_; }
  int& operator[](std::size_t i) { return data()[i]; }
  int operator[](std::size_t i) const { return data()[i]; }
  int front() const { return data()[0]; }
  operator std::span<const int>() const { return {data(), size_}; }  // NOLINT: implicit, as a vector

  void push_back(int value) {
    if (size_ < kInline) {
      slots_[size_++] = value;
      return;
    }
    if (size_ == kInline || size_ == capacity()) grow();
    heap()[size_++] = value;
  }
  void clear() {
    release();
    size_ = 0;
  }

  friend bool operator==(const DepList& a, const DepList& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  static constexpr std::uint32_t kInline = 3;
  // In place: slots_[0..size). On the heap (size_ > kInline): the pointer
  // in slots_[0..1] (copied bytewise, not aliased) and the capacity in
  // slots_[2].
  bool on_heap() const { return size_ > kInline; }
  int* heap() const {
    int* p = nullptr;
    std::memcpy(&p, slots_, sizeof p);
    return p;
  }
  std::uint32_t capacity() const { return static_cast<std::uint32_t>(slots_[2]); }
  void set_heap(int* p, std::uint32_t capacity) {
    std::memcpy(slots_, &p, sizeof p);
    slots_[2] = static_cast<int>(capacity);
  }
  // Room for twice the current size (at least 8), moving the elements.
  void grow() {
    const std::uint32_t cap = std::max<std::uint32_t>(8, 2 * size_);
    int* p = new int[cap];
    std::memcpy(p, data(), size_ * sizeof(int));
    release();
    set_heap(p, cap);
  }
  void release() {
    if (on_heap()) delete[] heap();
  }
  void assign(const int* values, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) push_back(values[i]);
  }

  alignas(int*) int slots_[kInline] = {};
  std::uint32_t size_ = 0;
};

static_assert(sizeof(DepList) == 16);

}  // namespace collsim
