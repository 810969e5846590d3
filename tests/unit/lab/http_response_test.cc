#include "qnet/lab/http_response.h"

#include <gtest/gtest.h>

#include "qnet/lab/query_log.h"

namespace qnet::lab {
namespace {

TEST(HttpResponse, BuildHttpResponse_HasStatusTypeLengthCloseAndBody) {
  EXPECT_EQ(BuildHttpResponse(200, "10.0.0.1\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
            "Connection: close\r\n\r\n10.0.0.1\n");
}

TEST(HttpResponse, ReplyForRequest_BodyIsSourceAddressForAnyMethodAndPath) {
  for (const char* head : {"GET / HTTP/1.1\r\nHost: web.lab\r\n\r\n",
                           "POST /x/y?z=1 HTTP/1.0\r\n\r\n", "PUT * HTTP/1.1\n\n"}) {
    std::string reply = ReplyForRequest(head, "2001:db8:1::2");
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << head;
    EXPECT_TRUE(reply.ends_with("\r\n\r\n2001:db8:1::2\n")) << head;
    EXPECT_NE(reply.find("Content-Length: 14\r\n"), std::string::npos);
  }
}

TEST(HttpResponse, ReplyForRequest_HeadGetsHeadersOnly) {
  std::string reply = ReplyForRequest("HEAD / HTTP/1.1\r\n\r\n", "10.0.0.1");
  EXPECT_NE(reply.find("Content-Length: 9\r\n"), std::string::npos);
  EXPECT_TRUE(reply.ends_with("\r\n\r\n"));
}

TEST(HttpResponse, ReplyForRequest_MalformedRequestLineIs400) {
  for (const char* head :
       {"\r\n\r\n", "GET /\r\n\r\n", "GET / FTP/1\r\n\r\n", "G\x01T / HTTP/1.1\r\n\r\n"}) {
    EXPECT_TRUE(ReplyForRequest(head, "10.0.0.1").starts_with("HTTP/1.1 400 Bad Request\r\n"))
        << head;
  }
}

TEST(HttpResponse, ReplyForOversizeHead_Is431AndCloses) {
  std::string reply = ReplyForOversizeHead();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 431 "));
  EXPECT_NE(reply.find("Connection: close\r\n"), std::string::npos);
}

TEST(HttpResponse, FindHeadEnd_FindsBlankLineInEitherStyle) {
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), 24u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\n\n"), 16u);
  EXPECT_FALSE(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n").has_value());
}

TEST(QueryLog, FormatQueryLogLine_IsOneSpaceSeparatedLine) {
  EXPECT_EQ(FormatQueryLogLine(1700000000123, "198.51.100.2", "udp", "web.lab", "A"),
            "1700000000123 198.51.100.2 udp web.lab A\n");
}

}  // namespace
}  // namespace qnet::lab
