#include "faas/orchestrator/queue_worker.h"

namespace rcuda::faas {

void QueueWorker::Lane::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (stop_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  });
}

void QueueWorker::Lane::Push(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void QueueWorker::Lane::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    tasks_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

size_t QueueWorker::Lane::backlog() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

QueueWorker::QueueWorker(asio::io_context& io, Queue* queue) : io_(io), queue_(queue) {
  receiver_.Start();
  controller_.Start();
}

QueueWorker::~QueueWorker() { Stop(); }

void QueueWorker::Stop() {
  alive_->store(false);
  receiver_.Stop();
  controller_.Stop();
}

size_t QueueWorker::control_backlog() const { return controller_.backlog(); }

void QueueWorker::Deliver(std::function<void()> callback) {
  auto alive = alive_;
  asio::post(io_, [alive, callback = std::move(callback)] {
    if (alive->load()) callback();
  });
}

void QueueWorker::Receive(int max, std::chrono::milliseconds wait, Received done) {
  receiver_.Push([this, max, wait, done = std::move(done)] {
    auto messages = std::make_shared<std::vector<QueueMessage>>();
    Status s = queue_->Receive(max, wait, messages.get());
    Deliver([done, s, messages] { done(s, std::move(*messages)); });
  });
}

void QueueWorker::Extend(const std::string& id, Done done) {
  controller_.Push([this, id, done = std::move(done)] {
    Status s = queue_->ExtendVisibility(id);
    Deliver([done, s] { done(s); });
  });
}

void QueueWorker::Ack(const std::string& id, Done done) {
  controller_.Push([this, id, done = std::move(done)] {
    Status s = queue_->Ack(id);
    Deliver([done, s] { done(s); });
  });
}

void QueueWorker::DeadLetter(const QueueMessage& message, const std::string& reason, Done done) {
  controller_.Push([this, message, reason, done = std::move(done)] {
    Status s = queue_->DeadLetter(message, reason);
    Deliver([done, s] { done(s); });
  });
}

void QueueWorker::Stats(std::function<void(Status, QueueStats)> done) {
  controller_.Push([this, done = std::move(done)] {
    QueueStats stats;
    Status s = queue_->Stats(&stats);
    Deliver([done, s, stats] { done(s, stats); });
  });
}

}  // namespace rcuda::faas
