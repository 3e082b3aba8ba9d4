// ListObjectsV2 and error documents, read with expat.
#include <catch2/catch.hpp>

#include "faas/storage/s3_xml.h"

using namespace rcuda::faas;

TEST_CASE("a ListObjectsV2 page: objects, truncation and the continuation token", "[s3-xml]") {
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>in</Name><Prefix>jobs/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
  <Contents><Key>jobs/a &amp; b.txt</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>jobs/b</Key><LastModified>2024-01-02T00:00:00.000Z</LastModified><ETag>"e1"</ETag><Size>0</Size>
    <VersionId>v7</VersionId></Contents>
  <NextContinuationToken>tok/en+1</NextContinuationToken>
</ListBucketResult>)";
  ListPage page;
  REQUIRE(ParseListObjectsV2(xml, 10, &page).ok());
  REQUIRE(page.objects.size() == 2);
  CHECK(page.objects[0].key == "jobs/a & b.txt");
  CHECK(page.objects[0].size == 1234);
  CHECK(page.objects[0].etag == "9b2cf535f27731c974343645a3985328");
  CHECK(page.objects[0].last_modified == "2024-01-01T00:00:00.000Z");
  CHECK(page.objects[1].etag == "e1");
  CHECK(page.objects[1].version_id == "v7");
  CHECK(page.next_continuation_token == "tok/en+1");

  CHECK_FALSE(ParseListObjectsV2(xml, 1, &page).ok());  // more entries than asked for
}

TEST_CASE("hostile or broken listings are errors", "[s3-xml]") {
  ListPage page;
  CHECK_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>a</Key>", 10, &page).ok());
  CHECK_FALSE(ParseListObjectsV2("<Other/>", 10, &page).ok());
  CHECK_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", 10, &page).ok());
  CHECK_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", 10, &page).ok());
  CHECK_FALSE(
      ParseListObjectsV2("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>", 10,
                         &page).ok());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  CHECK_FALSE(ParseListObjectsV2(deep, 10, &page).ok());
  // Entity expansion (a "billion laughs") is refused by expat.
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">";
  for (int i = 1; i < 10; ++i) {
    laughs += "<!ENTITY " + std::string(1, char('a' + i)) + " \"";
    for (int j = 0; j < 10; ++j) laughs += "&" + std::string(1, char('a' + i - 1)) + ";";
    laughs += "\">";
  }
  laughs += "]><ListBucketResult><Contents><Key>&j;</Key></Contents></ListBucketResult>";
  CHECK_FALSE(ParseListObjectsV2(laughs, 10, &page).ok());
  // An undeclared entity in a key would change the key: refused.
  rcuda::Status s = ParseListObjectsV2("<ListBucketResult><Contents><Key>&uuml;</Key></Contents></ListBucketResult>", 10, &page);
  CHECK(s.message().find("undeclared XML entity &uuml;") != std::string::npos);
  CHECK(ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>", 10, &page).ok());
  CHECK(page.objects.empty());
}

TEST_CASE("S3 error documents", "[s3-xml]") {
  S3ErrorDocument error;
  REQUIRE(ParseS3Error("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
                       &error));
  CHECK(error.code == "NoSuchKey");
  CHECK(error.message == "The specified key does not exist.");
  // s3rver writes HTML entities for non-ASCII characters: the code still reads.
  REQUIRE(ParseS3Error("<Error><Code>NoSuchKey</Code><Key>&uuml;</Key></Error>", &error));
  CHECK(error.code == "NoSuchKey");
  CHECK_FALSE(ParseS3Error("not xml", &error));
  CHECK_FALSE(ParseS3Error("<Other/>", &error));
}
