// The streaming decoder: frames split anywhere, and the exact error for each
// kind of bad input (contract 9: refused with a clear error, never an assert).
#include <gtest/gtest.h>

#include <bit>
#include <string>

#include "qnet/qrexec/frame.h"

namespace qnet::qrexec {
namespace {

using namespace std::string_literals;

std::string Raw(uint32_t type, uint32_t len) {
  return EncodeHeader({static_cast<MsgType>(type), len});
}

std::string MustEncode(MsgType type, std::string_view payload) {
  Result<std::string> r = EncodeFrame(type, payload);
  EXPECT_TRUE(r.has_value());
  return r.has_value() ? *r : std::string();
}

// Feeds everything and returns the first error Next() reports.
Error FirstError(std::string_view bytes) {
  FrameDecoder decoder;
  decoder.Feed(bytes);
  while (true) {
    Result<std::optional<Frame>> next = decoder.Next();
    if (!next.has_value()) return next.error();
    if (!next->has_value()) return Error(Errc::kInternal, "no error");
  }
}

TEST(QrexecFrameDecoder, ReassemblesFramesSplitAtEveryOffset) {
  std::string stream =
      MustEncode(MsgType::kHello, EncodeHello({})) + MustEncode(MsgType::kDataStdin, "hello") +
      MustEncode(MsgType::kDataStdin, "") + MustEncode(MsgType::kDataExitCode, EncodeExitCode(7));
  for (size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder decoder;
    decoder.Feed(std::string_view(stream).substr(0, split));
    std::vector<Frame> frames;
    auto drain = [&] {
      while (true) {
        Result<std::optional<Frame>> next = decoder.Next();
        ASSERT_TRUE(next.has_value()) << next.error().message();
        if (!next->has_value()) return;
        frames.push_back(std::move(**next));
      }
    };
    drain();
    decoder.Feed(std::string_view(stream).substr(split));
    drain();
    ASSERT_EQ(frames.size(), 4u) << "split at " << split;
    EXPECT_EQ(frames[1], (Frame{MsgType::kDataStdin, "hello"}));
    EXPECT_EQ(frames[2], (Frame{MsgType::kDataStdin, ""}));
    EXPECT_EQ(frames[3].type, MsgType::kDataExitCode);
    EXPECT_TRUE(decoder.Finish().ok());
    EXPECT_TRUE(decoder.AtFrameBoundary());
  }
}

TEST(QrexecFrameDecoder, BytesWantedNeverCrossesAFrameBoundary) {
  FrameDecoder decoder;
  EXPECT_EQ(decoder.BytesWanted(), kHeaderSize);
  std::string frame = MustEncode(MsgType::kDataStdout, "0123456789");
  decoder.Feed(frame.substr(0, 3));
  EXPECT_EQ(decoder.BytesWanted(), 5u);
  decoder.Feed(frame.substr(3, 5));
  EXPECT_EQ(decoder.BytesWanted(), 0u);  // header complete, not yet parsed
  ASSERT_FALSE(decoder.Next()->has_value());
  EXPECT_EQ(decoder.BytesWanted(), 10u);
  decoder.Feed(frame.substr(8, 4));
  EXPECT_EQ(decoder.BytesWanted(), 6u);
  decoder.Feed(frame.substr(12));
  EXPECT_EQ(decoder.BytesWanted(), 0u);
  ASSERT_TRUE(decoder.Next()->has_value());
  EXPECT_EQ(decoder.BytesWanted(), kHeaderSize);
}

TEST(QrexecFrameDecoder, UnknownTypeIsRefusedNamingTheField) {
  Error e = FirstError(Raw(0x1234, 0));
  EXPECT_EQ(e.code(), Errc::kProtocol);
  EXPECT_EQ(e.message(), "msg_header.type: unknown message type 0x1234");
}

TEST(QrexecFrameDecoder, GarbageIsRefusedAsUnknownType) {
  if constexpr (std::endian::native != std::endian::little) GTEST_SKIP();
  Error e = FirstError("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(e.code(), Errc::kProtocol);
  EXPECT_EQ(e.message(), "msg_header.type: unknown message type 0x20544547");
}

TEST(QrexecFrameDecoder, OversizedLengthsAreRefusedBeforeThePayloadArrives) {
  struct Case {
    uint32_t type;
    uint32_t len;
    std::string message;
  };
  const Case cases[] = {
      {0x190, 65537, "msg_header.len: 65537 bytes exceeds the maximum of 65536 for MSG_DATA_STDIN"},
      {0x191, 0xffffffff,
       "msg_header.len: 4294967295 bytes exceeds the maximum of 65536 for MSG_DATA_STDOUT"},
      {0x200, 65536,
       "msg_header.len: 65536 bytes exceeds the maximum of 65535 for MSG_EXEC_CMDLINE"},
      {0x202, 41, "msg_header.len: 41 bytes exceeds the maximum of 40 for MSG_SERVICE_CONNECT"},
      {0x213, 160 + 65001,
       "msg_header.len: 65161 bytes exceeds the maximum of 65160 for MSG_TRIGGER_SERVICE4"},
      {0x212, 96 + 65001,
       "msg_header.len: 65097 bytes exceeds the maximum of 65096 for MSG_TRIGGER_SERVICE3"},
      {0x300, 5, "msg_header.len: 5 bytes for MSG_HELLO, expected 4"},
      {0x193, 8, "msg_header.len: 8 bytes for MSG_DATA_EXIT_CODE, expected 4"},
      {0x203, 31, "msg_header.len: 31 bytes for MSG_SERVICE_REFUSED, expected 32"},
      {0x200, 7, "msg_header.len: 7 bytes is below the minimum of 8 for MSG_EXEC_CMDLINE"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    Error e = FirstError(Raw(c.type, c.len));  // header only: no payload fed
    EXPECT_EQ(e.code(), Errc::kProtocol);
    EXPECT_EQ(e.message(), c.message);
  }
}

TEST(QrexecFrameDecoder, TruncatedPayloadIsReportedAtEndOfStream) {
  FrameDecoder decoder;
  decoder.Feed(Raw(0x190, 10) + "abc");
  Result<std::optional<Frame>> next = decoder.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_value());
  Status end = decoder.Finish();
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().code(), Errc::kProtocol);
  EXPECT_EQ(end.error().message(), "truncated MSG_DATA_STDIN: payload has 3 of 10 bytes");
}

TEST(QrexecFrameDecoder, TruncatedHeaderIsReportedAtEndOfStream) {
  FrameDecoder decoder;
  decoder.Feed("\x90\x01\x00"s);
  ASSERT_FALSE(decoder.Next()->has_value());
  Status end = decoder.Finish();
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().message(), "truncated message: header has 3 of 8 bytes");
}

TEST(QrexecFrameDecoder, StaysPoisonedAfterAnError) {
  FrameDecoder decoder;
  decoder.Feed(Raw(0x999, 0));
  ASSERT_FALSE(decoder.Next().has_value());
  decoder.Feed(MustEncode(MsgType::kDataStdin, "ok"));
  Result<std::optional<Frame>> again = decoder.Next();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().message(), "msg_header.type: unknown message type 0x999");
  EXPECT_FALSE(decoder.Finish().ok());
  EXPECT_EQ(decoder.BytesWanted(), 0u);
}

TEST(QrexecFrameDecoder, DecodeHeaderNeedsEightBytes) {
  Result<Header> h = DecodeHeader("\x00\x03\x00\x00"s);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().message(), "msg_header: 4 bytes, a header has 8");
}

TEST(QrexecFrameDecoder, ManySmallFramesDecodeInOrder) {
  std::string stream;
  for (int i = 0; i < 20000; ++i) stream += MustEncode(MsgType::kDataStdout, std::to_string(i));
  FrameDecoder decoder;
  for (size_t pos = 0; pos < stream.size(); pos += 4093) {
    decoder.Feed(std::string_view(stream).substr(pos, 4093));
  }
  for (int i = 0; i < 20000; ++i) {
    Result<std::optional<Frame>> next = decoder.Next();
    ASSERT_TRUE(next.has_value() && next->has_value());
    ASSERT_EQ((*next)->payload, std::to_string(i));
  }
  EXPECT_TRUE(decoder.AtFrameBoundary());
}

}  // namespace
}  // namespace qnet::qrexec
