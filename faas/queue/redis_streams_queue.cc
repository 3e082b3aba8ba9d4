#include "faas/queue/redis_streams_queue.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

namespace rcuda::faas {

namespace {

// KEYS[1] stream; ARGV: group, consumer, id. 1: extended; 0: not pending
// (acknowledged or dead-lettered); -1: delivered to another consumer since.
constexpr char kExtendScript[] = R"(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 then return 0 end
if p[1][2] ~= ARGV[2] then return -1 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
)";

// KEYS[1] stream; ARGV: group, id.
constexpr char kAckScript[] = R"(
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return acked
)";

// KEYS[1] stream, KEYS[2] dead-letter stream; ARGV: group, id, body, reason,
// delivery count. The stream's own body wins over the caller's. Nothing
// happens when the message is gone already (a retried call).
constexpr char kDeadLetterScript[] = R"(
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #entry == 0 then return 0 end
local body = ARGV[3]
local fields = entry[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'body' then body = fields[i + 1] end
end
redis.call('XADD', KEYS[2], '*', 'original_id', ARGV[2], 'body', body, 'reason', ARGV[4],
           'delivery_count', ARGV[5])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
)";

// KEYS[1] stream, KEYS[2] state hash; ARGV: field, version, body.
constexpr char kPublishOnceScript[] = R"(
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return false end
local id = redis.call('XADD', KEYS[1], '*', 'body', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return id
)";

std::string DefaultConsumer() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "consumer") + "-" + std::to_string(getpid());
}

bool IsString(const redisReply* r) { return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS); }
std::string Str(const redisReply* r) { return IsString(r) ? std::string(r->str, r->len) : std::string(); }

// A stream entry [id, [field, value, ...]]; false when it is not one (an
// entry deleted while pending comes back with nil fields).
bool ParseEntry(const redisReply* entry, std::string* id, std::vector<std::pair<std::string, std::string>>* fields) {
  if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return false;
  if (!IsString(entry->element[0])) return false;
  *id = Str(entry->element[0]);
  const redisReply* list = entry->element[1];
  if (!list || list->type != REDIS_REPLY_ARRAY || list->elements % 2 != 0) return false;
  fields->clear();
  for (size_t i = 0; i + 1 < list->elements; i += 2) {
    fields->emplace_back(Str(list->element[i]), Str(list->element[i + 1]));
  }
  return true;
}

std::string Field(const std::vector<std::pair<std::string, std::string>>& fields, const std::string& name,
                  bool* found = nullptr) {
  for (const auto& [key, value] : fields) {
    if (key == name) {
      if (found) *found = true;
      return value;
    }
  }
  if (found) *found = false;
  return "";
}

Status ExpectInteger(const RedisReplyPtr& reply, const std::string& what, long long* value) {
  if (!reply || reply->type != REDIS_REPLY_INTEGER) return Status::InvalidValue("queue: " + what + ": unexpected reply");
  *value = reply->integer;
  return Status::Ok();
}

}  // namespace

RedisStreamsQueue::RedisStreamsQueue(const RedisQueueOptions& options) : options_(options) {
  if (options_.consumer.empty()) options_.consumer = DefaultConsumer();
  if (options_.dead_letter_stream.empty()) options_.dead_letter_stream = options_.stream + ":dead";
  auto setup = [this](const RedisConnection::Send& send) { return SetUp(send); };
  control_ = std::make_unique<RedisConnection>(options_.redis, setup);
  reader_ = std::make_unique<RedisConnection>(options_.redis, setup);
}

Status RedisStreamsQueue::Open(const RedisQueueOptions& options, std::unique_ptr<RedisStreamsQueue>* queue) {
  if (options.stream.empty() || options.group.empty()) return Status::InvalidValue("queue: empty stream or group name");
  if (options.visibility_timeout.count() <= 0) return Status::InvalidValue("queue: visibility timeout must be > 0");
  std::unique_ptr<RedisStreamsQueue> q(new RedisStreamsQueue(options));
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(q->control_->Command({"PING"}, &reply));
  *queue = std::move(q);
  return Status::Ok();
}

Status RedisStreamsQueue::SetUp(const RedisConnection::Send& send) {
  RedisReplyPtr reply;
  Status s = send({"XGROUP", "CREATE", options_.stream, options_.group, "0", "MKSTREAM"}, &reply);
  if (!s.ok() && s.message().find("BUSYGROUP") == std::string::npos) return s;
  return Status::Ok();
}

Status RedisStreamsQueue::Publish(const std::string& body, std::string* id) {
  if (body.size() > options_.max_body_bytes) {
    return Status::InvalidValue("queue: a message of " + std::to_string(body.size()) + " bytes (limit " +
                                std::to_string(options_.max_body_bytes) + ")");
  }
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(control_->Command({"XADD", options_.stream, "*", "body", body}, &reply));
  if (!IsString(reply.get())) return Status::InvalidValue("queue: XADD: unexpected reply");
  if (id) *id = Str(reply.get());
  return Status::Ok();
}

Status RedisStreamsQueue::PublishOnce(const std::string& state_key, const std::string& field,
                                      const std::string& version, const std::string& body, bool* published,
                                      std::string* id) {
  *published = false;
  if (id) id->clear();
  if (body.size() > options_.max_body_bytes) {
    return Status::InvalidValue("queue: a message of " + std::to_string(body.size()) + " bytes (limit " +
                                std::to_string(options_.max_body_bytes) + ")");
  }
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(control_->Command(
      {"EVAL", kPublishOnceScript, "2", options_.stream, state_key, field, version, body}, &reply));
  if (reply->type == REDIS_REPLY_NIL) return Status::Ok();
  if (!IsString(reply.get())) return Status::InvalidValue("queue: publish-once: unexpected reply");
  *published = true;
  if (id) *id = Str(reply.get());
  return Status::Ok();
}

Status RedisStreamsQueue::DeliveryCount(const std::string& id, int64_t* count) {
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(control_->Command({"XPENDING", options_.stream, options_.group, id, id, "1"}, &reply));
  *count = 0;
  if (reply->type != REDIS_REPLY_ARRAY) return Status::InvalidValue("queue: XPENDING: unexpected reply");
  if (reply->elements == 0) return Status::Ok();  // acknowledged meanwhile
  const redisReply* row = reply->element[0];
  if (!row || row->type != REDIS_REPLY_ARRAY || row->elements < 4 || row->element[3]->type != REDIS_REPLY_INTEGER) {
    return Status::InvalidValue("queue: XPENDING: unexpected reply");
  }
  *count = row->element[3]->integer;
  return Status::Ok();
}

Status RedisStreamsQueue::Reclaim(int max, std::vector<QueueMessage>* messages) {
  std::lock_guard<std::mutex> lock(cursor_mu_);
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(reader_->Command({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer,
                                          std::to_string(options_.visibility_timeout.count()), reclaim_cursor_,
                                          "COUNT", std::to_string(max)},
                                         &reply));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || !IsString(reply->element[0]) ||
      reply->element[1]->type != REDIS_REPLY_ARRAY) {
    return Status::InvalidValue("queue: XAUTOCLAIM: unexpected reply");
  }
  reclaim_cursor_ = Str(reply->element[0]);
  const redisReply* entries = reply->element[1];
  for (size_t i = 0; i < entries->elements; ++i) {
    QueueMessage message;
    std::vector<std::pair<std::string, std::string>> fields;
    if (!ParseEntry(entries->element[i], &message.id, &fields)) continue;  // deleted while pending
    bool has_body = false;
    message.body = Field(fields, "body", &has_body);
    RCUDA_RETURN_IF_ERROR(DeliveryCount(message.id, &message.delivery_count));
    if (!has_body) {
      RCUDA_RETURN_IF_ERROR(DeadLetter(message, "malformed entry: no body field"));
      continue;
    }
    if (options_.max_deliveries > 0 && message.delivery_count > options_.max_deliveries) {
      RCUDA_RETURN_IF_ERROR(DeadLetter(message, "delivered " + std::to_string(message.delivery_count) +
                                                    " times without an acknowledgement (max_deliveries " +
                                                    std::to_string(options_.max_deliveries) + ")"));
      continue;
    }
    messages->push_back(std::move(message));
  }
  return Status::Ok();
}

Status RedisStreamsQueue::ReadNew(int max, std::chrono::milliseconds wait, std::vector<QueueMessage>* messages) {
  std::vector<std::string> argv = {"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
                                   std::to_string(max)};
  int extra_timeout = 0;
  if (wait.count() > 0) {
    argv.insert(argv.end(), {"BLOCK", std::to_string(wait.count())});
    extra_timeout = int(std::min<int64_t>(wait.count(), 24 * 3600 * 1000));
  }
  argv.insert(argv.end(), {"STREAMS", options_.stream, ">"});
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(reader_->Command(argv, &reply, extra_timeout));
  if (reply->type == REDIS_REPLY_NIL) return Status::Ok();  // nothing new within `wait`
  if (reply->type != REDIS_REPLY_ARRAY) return Status::InvalidValue("queue: XREADGROUP: unexpected reply");
  for (size_t s = 0; s < reply->elements; ++s) {
    const redisReply* stream = reply->element[s];
    if (!stream || stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 ||
        stream->element[1]->type != REDIS_REPLY_ARRAY) {
      return Status::InvalidValue("queue: XREADGROUP: unexpected reply");
    }
    const redisReply* entries = stream->element[1];
    for (size_t i = 0; i < entries->elements; ++i) {
      QueueMessage message;
      std::vector<std::pair<std::string, std::string>> fields;
      if (!ParseEntry(entries->element[i], &message.id, &fields)) continue;
      bool has_body = false;
      message.body = Field(fields, "body", &has_body);
      message.delivery_count = 1;
      if (!has_body) {
        RCUDA_RETURN_IF_ERROR(DeadLetter(message, "malformed entry: no body field"));
        continue;
      }
      messages->push_back(std::move(message));
    }
  }
  return Status::Ok();
}

Status RedisStreamsQueue::Receive(int max, std::chrono::milliseconds wait, std::vector<QueueMessage>* messages) {
  messages->clear();
  if (max <= 0) return Status::InvalidValue("queue: Receive of " + std::to_string(max) + " messages");
  max = std::min(max, options_.max_receive);
  RCUDA_RETURN_IF_ERROR(Reclaim(max, messages));
  if (int(messages->size()) >= max) return Status::Ok();
  Status s = ReadNew(max - int(messages->size()), messages->empty() ? wait : std::chrono::milliseconds(0), messages);
  if (!s.ok() && !messages->empty()) {
    // The reclaimed ones are this consumer's now: hand them over rather than
    // leave them for another visibility timeout.
    spdlog::warn("queue: {}", s.message());
    return Status::Ok();
  }
  return s;
}

Status RedisStreamsQueue::ExtendVisibility(const std::string& id) {
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(control_->Command(
      {"EVAL", kExtendScript, "1", options_.stream, options_.group, options_.consumer, id}, &reply));
  long long result = 0;
  RCUDA_RETURN_IF_ERROR(ExpectInteger(reply, "extend", &result));
  if (result == 0) return Status::InvalidValue("queue: message " + id + " is not pending (acknowledged or dead-lettered)");
  if (result < 0) {
    return Status::InvalidValue("queue: message " + id +
                                " was delivered to another consumer after its visibility timeout");
  }
  return Status::Ok();
}

Status RedisStreamsQueue::Ack(const std::string& id) {
  RedisReplyPtr reply;
  return control_->Command({"EVAL", kAckScript, "1", options_.stream, options_.group, id}, &reply);
}

Status RedisStreamsQueue::DeadLetter(const QueueMessage& message, const std::string& reason) {
  RedisReplyPtr reply;
  return control_->Command({"EVAL", kDeadLetterScript, "2", options_.stream, options_.dead_letter_stream,
                            options_.group, message.id, message.body, reason,
                            std::to_string(message.delivery_count)},
                           &reply);
}

Status RedisStreamsQueue::Stats(QueueStats* stats) {
  RedisReplyPtr reply;
  long long value = 0;
  RCUDA_RETURN_IF_ERROR(control_->Command({"XLEN", options_.stream}, &reply));
  RCUDA_RETURN_IF_ERROR(ExpectInteger(reply, "XLEN", &value));
  stats->length = value;
  RCUDA_RETURN_IF_ERROR(control_->Command({"XPENDING", options_.stream, options_.group}, &reply));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 || reply->element[0]->type != REDIS_REPLY_INTEGER) {
    return Status::InvalidValue("queue: XPENDING: unexpected reply");
  }
  stats->pending = reply->element[0]->integer;
  RCUDA_RETURN_IF_ERROR(control_->Command({"XLEN", options_.dead_letter_stream}, &reply));
  RCUDA_RETURN_IF_ERROR(ExpectInteger(reply, "XLEN", &value));
  stats->dead_letters = value;
  return Status::Ok();
}

Status RedisStreamsQueue::ListDeadLetters(int max, std::vector<faas::DeadLetter>* letters) {
  letters->clear();
  if (max <= 0) return Status::InvalidValue("queue: ListDeadLetters of " + std::to_string(max));
  RedisReplyPtr reply;
  RCUDA_RETURN_IF_ERROR(control_->Command(
      {"XRANGE", options_.dead_letter_stream, "-", "+", "COUNT", std::to_string(std::min(max, options_.max_receive))},
      &reply));
  if (reply->type != REDIS_REPLY_ARRAY) return Status::InvalidValue("queue: XRANGE: unexpected reply");
  for (size_t i = 0; i < reply->elements; ++i) {
    faas::DeadLetter letter;
    std::vector<std::pair<std::string, std::string>> fields;
    if (!ParseEntry(reply->element[i], &letter.id, &fields)) continue;
    letter.original_id = Field(fields, "original_id");
    letter.body = Field(fields, "body");
    letter.reason = Field(fields, "reason");
    letter.delivery_count = std::strtoll(Field(fields, "delivery_count").c_str(), nullptr, 10);
    letters->push_back(std::move(letter));
  }
  return Status::Ok();
}

}  // namespace rcuda::faas
