#include "scheduler/lease_journal.h"

#include "scheduler/json.h"
#include "scheduler/wire.h"

namespace rcuda::sched {

std::string GrantRecord(const Lease& lease) {
  Json record = Json::Object();
  record.Set("t", "grant");
  record.Set("lease", EncodeLease(lease));
  return record.Dump();
}

std::string RenewRecord(const Lease& lease) {
  Json record = Json::Object();
  record.Set("t", "renew");
  record.Set("id", lease.id);
  record.Set("expires_ms", lease.expires_ms);
  record.Set("ttl_ms", lease.ttl_ms);
  return record.Dump();
}

std::string EndRecord(const Lease& lease, LeaseEnd why) {
  Json record = Json::Object();
  record.Set("t", "end");
  record.Set("id", lease.id);
  record.Set("why", why == LeaseEnd::kReleased ? "released" : "expired");
  return record.Dump();
}

std::string RevokedRecord(const Revocation& revocation) {
  Json record = Json::Object();
  record.Set("t", "revoked");
  record.Set("id", revocation.lease_id);
  Json nodes = Json::Array();
  for (const auto& node : revocation.nodes) nodes.Push(node);
  record.Set("nodes", std::move(nodes));
  record.Set("until_unix", revocation.until_unix);
  return record.Dump();
}

std::vector<std::string> SnapshotRecords(const Scheduler& scheduler, const RevocationList* revocations,
                                         int64_t now_ms) {
  std::vector<std::string> records;
  Json header = Json::Object();
  header.Set("t", "snapshot");
  header.Set("leases", int64_t(scheduler.leases().size()));
  header.Set("at_ms", now_ms);
  records.push_back(header.Dump());
  for (const auto& [id, lease] : scheduler.leases()) records.push_back(GrantRecord(lease));
  if (revocations) {
    for (const auto& [seq, revocation] : revocations->entries()) {
      if (revocation.until_unix * 1000 > now_ms) records.push_back(RevokedRecord(revocation));
    }
  }
  return records;
}

namespace {

Status DecodeRevoked(const Json& record, std::string* id, std::vector<std::string>* nodes, int64_t* until_unix) {
  RCUDA_RETURN_IF_ERROR(GetString(record, "id", id));
  RCUDA_RETURN_IF_ERROR(GetInt(record, "until_unix", until_unix));
  const Json* list = record.Find("nodes");
  if (!IsValidLeaseId(*id) || !list || !list->is_array() || list->items().empty() ||
      list->items().size() > kMaxGrantsPerLease) {
    return Status::InvalidValue("bad revoked record");
  }
  for (const Json& node : list->items()) {
    if (!node.is_string() || !IsValidNodeName(node.AsString())) return Status::InvalidValue("bad revoked record");
    nodes->push_back(node.AsString());
  }
  return Status::Ok();
}

}  // namespace

Status ReplayJournal(const std::vector<std::string>& records, Scheduler* scheduler, RevocationList* revocations,
                     ReplayStats* stats) {
  *stats = ReplayStats{};
  for (size_t i = 0; i < records.size(); ++i) {
    auto fail = [&](const std::string& why) {
      return Status::Corruption("journal record " + std::to_string(i + 1) + ": " + why);
    };
    Json record;
    Status parsed = ParseJson(records[i], &record);
    if (!parsed.ok()) return fail(parsed.message());
    std::string type;
    if (!GetString(record, "t", &type).ok()) return fail("no record type");
    if (type == "grant") {
      const Json* lease_json = record.Find("lease");
      Lease lease;
      if (!lease_json) return fail("grant without a lease");
      Status decoded = DecodeLease(*lease_json, &lease);
      if (!decoded.ok()) return fail(decoded.message());
      scheduler->RestoreLease(lease);
      ++stats->grants;
    } else if (type == "renew") {
      std::string id;
      int64_t expires_ms = 0, ttl_ms = 0;
      if (!GetString(record, "id", &id).ok() || !GetInt(record, "expires_ms", &expires_ms).ok() ||
          !GetOptionalInt(record, "ttl_ms", &ttl_ms).ok()) {
        return fail("bad renew record");
      }
      scheduler->RestoreRenew(id, expires_ms, ttl_ms);
      ++stats->renews;
    } else if (type == "end") {
      std::string id, why;
      if (!GetString(record, "id", &id).ok() || !GetOptionalString(record, "why", &why).ok()) {
        return fail("bad end record");
      }
      auto ended = scheduler->leases().find(id);
      LeaseEnd end = why == "released" ? LeaseEnd::kReleased : LeaseEnd::kExpired;
      if (revocations && ended != scheduler->leases().end() && EndRevokesTokens(ended->second, end)) {
        const Lease& lease = ended->second;
        revocations->Restore(id, LeaseNodes(lease), TokenExpiryUnix(std::max(lease.expires_ms, lease.tokens_until_ms)));
        ++stats->revocations;
      }
      scheduler->RestoreEnd(id);
      ++stats->ends;
    } else if (type == "revoked") {
      std::string id;
      std::vector<std::string> nodes;
      int64_t until_unix = 0;
      Status decoded = DecodeRevoked(record, &id, &nodes, &until_unix);
      if (!decoded.ok()) return fail(decoded.message());
      if (revocations) revocations->Restore(id, std::move(nodes), until_unix);
      ++stats->revocations;
    } else if (type == "snapshot") {
      // Informational: the grants that follow are the whole state.
    } else {
      return fail("unknown record type '" + type + "'");
    }
    ++stats->records;
  }
  return Status::Ok();
}

}  // namespace rcuda::sched
