// S3 event notifications: parse (AWS and MinIO shapes, hostile input) and
// produce.
#include <catch2/catch.hpp>

#include "faas/events/s3_event.h"

using namespace rcuda::faas;

TEST_CASE("an AWS S3 notification is parsed, the key decoded", "[events]") {
  std::string json = R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
    "eventTime":"2024-05-01T12:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"X"},
    "s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"in","arn":"arn:aws:s3:::in"},
      "object":{"key":"jobs/my+query%281%29.fasta","size":1234,"eTag":"0123abcd","versionId":"v1",
      "sequencer":"0055AED6DCD90281E5"}}}]})";
  std::vector<S3EventRecord> records;
  REQUIRE(ParseS3EventNotification(json, &records).ok());
  REQUIRE(records.size() == 1);
  const S3EventRecord& r = records[0];
  CHECK(r.event_name == "ObjectCreated:Put");
  CHECK(r.bucket == "in");
  CHECK(r.key == "jobs/my query(1).fasta");
  CHECK(r.size == 1234);
  CHECK(r.etag == "0123abcd");
  CHECK(r.version_id == "v1");
  CHECK(r.sequencer == "0055AED6DCD90281E5");
  CHECK(r.aws_region == "us-east-1");
  CHECK(IsObjectCreatedEvent(r));
}

TEST_CASE("a MinIO webhook notification (s3: prefix, extra top-level fields)", "[events]") {
  std::string json = R"({"EventName":"s3:ObjectCreated:Put","Key":"in/a%20b.txt","Records":[
    {"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2024-05-01T12:00:00.000Z",
     "eventName":"s3:ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"in"},
     "object":{"key":"a%20b.txt","size":5,"eTag":"e","contentType":"text/plain","sequencer":"17"}}},
    {"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"in"},"object":{"key":"old"}}}]})";
  std::vector<S3EventRecord> records;
  REQUIRE(ParseS3EventNotification(json, &records).ok());
  REQUIRE(records.size() == 2);
  CHECK(records[0].key == "a b.txt");
  CHECK(IsObjectCreatedEvent(records[0]));
  CHECK_FALSE(IsObjectCreatedEvent(records[1]));
  CHECK(records[1].size == 0);
}

TEST_CASE("S3's test event has no records and is no error", "[events]") {
  std::vector<S3EventRecord> records;
  REQUIRE(ParseS3EventNotification(
              R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-01-01T00:00:00.000Z","Bucket":"in"})",
              &records)
              .ok());
  CHECK(records.empty());
}

TEST_CASE("produced notifications parse back to the same records", "[events]") {
  S3EventRecord r;
  r.event_name = "ObjectCreated:Put";
  r.event_time = "2024-05-01T12:00:00.000Z";
  r.aws_region = "eu-west-1";
  r.bucket = "in";
  r.key = "dir/ä b+c%d&e?.txt";
  r.size = 1ull << 40;
  r.etag = "abc";
  r.version_id = "v";
  r.sequencer = "01";
  std::string json = S3EventNotificationJson({r, r});
  CHECK(json.find(R"("key":"dir/%C3%A4+b%2Bc%25d%26e%3F.txt")") != std::string::npos);
  std::vector<S3EventRecord> back;
  REQUIRE(ParseS3EventNotification(json, &back).ok());
  REQUIRE(back.size() == 2);
  CHECK(back[1].key == r.key);
  CHECK(back[1].size == r.size);
  CHECK(back[1].etag == r.etag);
  CHECK(back[1].version_id == r.version_id);
  CHECK(back[1].sequencer == r.sequencer);
  CHECK(back[1].event_time == r.event_time);
  CHECK(back[1].aws_region == r.aws_region);
}

TEST_CASE("hostile notifications get clear errors", "[events]") {
  std::vector<S3EventRecord> records;
  auto error = [&](const std::string& json) {
    rcuda::Status s = ParseS3EventNotification(json, &records);
    CHECK(records.empty());
    return s.ok() ? std::string("OK") : s.message();
  };
  CHECK(error("not json").find("not valid JSON") != std::string::npos);
  CHECK(error("[]").find("not a JSON object") != std::string::npos);
  CHECK(error("{}").find("no Records") != std::string::npos);
  CHECK(error(R"({"Records":{}})").find("not an array") != std::string::npos);
  CHECK(error(R"({"Records":[1]})").find("Records[0] is not an object") != std::string::npos);
  CHECK(error(R"({"Records":[{"s3":{"bucket":{"name":"in"},"object":{"key":"k"}}}]})").find("Records[0].eventName is missing") !=
        std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"in"},"object":{}}}]})")
            .find("Records[0].s3.object.key is missing") != std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":7},"object":{"key":"k"}}}]})")
            .find("s3.bucket.name is not a string") != std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":"in","object":{"key":"k"}}}]})")
            .find("s3.bucket is not an object") != std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"in"},"object":{"key":"k","size":-1}}}]})")
            .find("size is not a non-negative integer") != std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"in"},"object":{"key":"k","size":"5"}}}]})")
            .find("size is not a non-negative integer") != std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"in"},"object":{"key":"bad%2"}}}]})")
            .find("%-escape") != std::string::npos);
  CHECK(error(R"({"Records":[{"eventName":"x","s3":{"bucket":{"name":"in"},"object":{"key":"bad%zz"}}}]})")
            .find("%-escape") != std::string::npos);
  CHECK(error(std::string(2 << 20, ' ')).find("limit") != std::string::npos);
  CHECK(error(std::string(100000, '[') + std::string(100000, ']')).find("nested deeper") != std::string::npos);
  std::string many = R"({"Records":[)";
  for (int i = 0; i < 1001; ++i) many += std::string(i ? "," : "") + "{}";
  many += "]}";
  CHECK(error(many).find("1001 records") != std::string::npos);
}
