// Encodes every qrexec message type and compares with bytes written by hand
// from Qubes' struct layout (libqrexec/qrexec.h), host order = little endian.
#include "qnet/qrexec/frame.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>

namespace qnet::qrexec {
namespace {

using namespace std::string_literals;

#define SKIP_UNLESS_LITTLE_ENDIAN()                                                 \
  if constexpr (std::endian::native != std::endian::little) {                       \
    GTEST_SKIP() << "hand-written bytes are little-endian (Qubes uses host order)"; \
  }

struct WireCase {
  const char* name;
  MsgType type;
  std::string payload;  // as Qubes lays out the struct
  std::string header;   // struct msg_header {uint32 type; uint32 len;}
};

std::string Zeros(size_t n) { return std::string(n, '\0'); }

std::vector<WireCase> WireCases() {
  return {
      {"hello", MsgType::kHello, "\x03\x00\x00\x00"s, "\x00\x03\x00\x00\x04\x00\x00\x00"s},
      {"exec_cmdline", MsgType::kExecCmdline,
       "\x05\x00\x00\x00\x01\x02\x00\x00"s + "root:QUBESRPC qnet.Status dom0\0"s,
       "\x00\x02\x00\x00\x27\x00\x00\x00"s},
      {"just_exec", MsgType::kJustExec, "\x00\x00\x00\x00\x00\x00\x00\x00"s + "user:true\0"s,
       "\x01\x02\x00\x00\x12\x00\x00\x00"s},
      {"service_connect", MsgType::kServiceConnect,
       "\x07\x00\x00\x00\x02\x02\x00\x00"s + "SOCKET11"s + Zeros(24),
       "\x02\x02\x00\x00\x28\x00\x00\x00"s},
      {"exec_cmdline_port_reply", MsgType::kExecCmdline, "\x07\x00\x00\x00\x03\x02\x00\x00"s,
       "\x00\x02\x00\x00\x08\x00\x00\x00"s},
      {"service_connect_port_reply", MsgType::kServiceConnect, "\x07\x00\x00\x00\x03\x02\x00\x00"s,
       "\x02\x02\x00\x00\x08\x00\x00\x00"s},
      {"service_refused", MsgType::kServiceRefused, "SOCKET11"s + Zeros(24),
       "\x03\x02\x00\x00\x20\x00\x00\x00"s},
      {"trigger_service", MsgType::kTriggerService,
       "qubes.Filecopy"s + Zeros(50) + "work"s + Zeros(28) + "SOCKET11"s + Zeros(24),
       "\x10\x02\x00\x00\x80\x00\x00\x00"s},
      {"connection_terminated", MsgType::kConnectionTerminated, "\x07\x00\x00\x00\x02\x02\x00\x00"s,
       "\x11\x02\x00\x00\x08\x00\x00\x00"s},
      {"trigger_service3", MsgType::kTriggerService3,
       "work"s + Zeros(60) + "SOCKET11"s + Zeros(24) + "qubes.Filecopy+\0"s,
       "\x12\x02\x00\x00\x70\x00\x00\x00"s},
      {"trigger_service4", MsgType::kTriggerService4,
       "disp1"s + Zeros(59) + "work"s + Zeros(60) + "SOCKET11"s + Zeros(24) + "qubes.Filecopy\0"s,
       "\x13\x02\x00\x00\xaf\x00\x00\x00"s},
      {"data_stdin", MsgType::kDataStdin, "input"s, "\x90\x01\x00\x00\x05\x00\x00\x00"s},
      {"data_stdin_eof", MsgType::kDataStdin, ""s, "\x90\x01\x00\x00\x00\x00\x00\x00"s},
      {"data_stdout", MsgType::kDataStdout, "out\n"s, "\x91\x01\x00\x00\x04\x00\x00\x00"s},
      {"data_stderr", MsgType::kDataStderr, "e"s, "\x92\x01\x00\x00\x01\x00\x00\x00"s},
      {"data_exit_code", MsgType::kDataExitCode, "\x2a\x00\x00\x00"s,
       "\x93\x01\x00\x00\x04\x00\x00\x00"s},
  };
}

TEST(QrexecFrame, EveryTypeEncodesToQubesBytesAndDecodesBack) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  for (const WireCase& c : WireCases()) {
    SCOPED_TRACE(c.name);
    Result<std::string> frame = EncodeFrame(c.type, c.payload);
    ASSERT_TRUE(frame.has_value()) << frame.error().message();
    EXPECT_EQ(*frame, c.header + c.payload);

    Result<Header> header = DecodeHeader(*frame);
    ASSERT_TRUE(header.has_value()) << header.error().message();
    EXPECT_EQ(*header, (Header{c.type, static_cast<uint32_t>(c.payload.size())}));
    EXPECT_EQ(EncodeHeader(*header), c.header);

    FrameDecoder decoder;
    for (char byte : *frame) decoder.Feed(std::string_view(&byte, 1));
    Result<std::optional<Frame>> decoded = decoder.Next();
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
    ASSERT_TRUE(decoded->has_value());
    EXPECT_EQ(**decoded, (Frame{c.type, c.payload}));
    EXPECT_TRUE(decoder.Finish().ok());
  }
}

TEST(QrexecFrame, HelloPayloadIsPeerInfoVersion) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  EXPECT_EQ(EncodeHello({}), "\x04\x00\x00\x00"s);
  EXPECT_EQ(EncodeHello({3}), "\x03\x00\x00\x00"s);
  Result<PeerInfo> info = DecodeHello("\x02\x00\x00\x00"s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->version, 2u);
  Result<PeerInfo> bad = DecodeHello("\x03\x00\x00"s);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::kProtocol);
  EXPECT_EQ(bad.error().message(), "peer_info: 3 bytes for MSG_HELLO, expected 4");
}

TEST(QrexecFrame, ExecParamsMatchQubesLayoutWithNulTerminatedCmdline) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  ExecParams params{5, 513, "root:QUBESRPC qnet.Status dom0"};
  std::string bytes = "\x05\x00\x00\x00\x01\x02\x00\x00"s + "root:QUBESRPC qnet.Status dom0\0"s;
  Result<std::string> encoded = EncodeExecParams(params);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(*encoded, bytes);
  Result<ExecParams> decoded = DecodeExecParams(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(*decoded, params);
}

TEST(QrexecFrame, ExecParamsRefuseMissingOrEmbeddedNul) {
  struct Bad {
    std::string payload;
    std::string message;
  };
  const Bad cases[] = {
      {Zeros(8) + "abc"s, "exec_params.cmdline: not NUL-terminated"},
      {Zeros(8) + "ab\0c\0"s, "exec_params.cmdline: embedded NUL at offset 2"},
      {Zeros(8), "exec_params.cmdline: missing (8 bytes is a daemon's port reply)"},
      {Zeros(7), "exec_params: 7 bytes is below the minimum of 8 for MSG_EXEC_CMDLINE"},
      {Zeros(65536),
       "exec_params: 65536 bytes exceeds the maximum of 65535 for "
       "MSG_EXEC_CMDLINE"},
  };
  for (const Bad& c : cases) {
    Result<ExecParams> r = DecodeExecParams(c.payload);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), Errc::kProtocol);
    EXPECT_EQ(r.error().message(), c.message);
  }
  Result<std::string> nul = EncodeExecParams({0, 0, "a\0b"s});
  ASSERT_FALSE(nul.has_value());
  EXPECT_EQ(nul.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(nul.error().message(), "exec_params.cmdline: contains a NUL byte");
  Result<std::string> too_long = EncodeExecParams({0, 0, std::string(kMaxCmdlineLen, 'a')});
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().message(), "exec_params.cmdline: 65527 bytes, at most 65526 fit");
  // The largest command fills the daemon's MAX_QREXEC_CMD_LEN payload exactly.
  Result<std::string> largest = EncodeExecParams({0, 0, std::string(kMaxCmdlineLen - 1, 'a')});
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->size(), 65535u);
  EXPECT_TRUE(DecodeExecParams(*largest).has_value());
}

TEST(QrexecFrame, ExitCodeIsInt32) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  EXPECT_EQ(EncodeExitCode(-1), "\xff\xff\xff\xff"s);
  EXPECT_EQ(EncodeExitCode(126), "\x7e\x00\x00\x00"s);
  Result<int32_t> code = DecodeExitCode("\xfe\xff\xff\xff"s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, -2);
  Result<int32_t> bad = DecodeExitCode("\x01\x00"s);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "exit_code: 2 bytes for MSG_DATA_EXIT_CODE, expected 4");
}

TEST(QrexecFrame, ServiceParamsIdentIsNulTerminated32Bytes) {
  Result<std::string> encoded = EncodeServiceParams("SOCKET11");
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(*encoded, "SOCKET11"s + Zeros(24));
  Result<std::string> ident = DecodeServiceParams(*encoded);
  ASSERT_TRUE(ident.has_value());
  EXPECT_EQ(*ident, "SOCKET11");

  Result<std::string> unterminated = DecodeServiceParams(std::string(32, 'x'));
  ASSERT_FALSE(unterminated.has_value());
  EXPECT_EQ(unterminated.error().message(),
            "service_params.ident: not NUL-terminated within 32 bytes");
  EXPECT_FALSE(EncodeServiceParams(std::string(32, 'x')).has_value());
  EXPECT_TRUE(EncodeServiceParams(std::string(31, 'x')).has_value());
}

TEST(QrexecFrame, TriggerServiceParams3RoundTrips) {
  TriggerServiceParams3 params{"work", "SOCKET11", "qubes.Filecopy+"};
  std::string bytes = "work"s + Zeros(60) + "SOCKET11"s + Zeros(24) + "qubes.Filecopy+\0"s;
  Result<std::string> encoded = EncodeTriggerServiceParams3(params);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(*encoded, bytes);
  Result<TriggerServiceParams3> decoded = DecodeTriggerServiceParams3(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(*decoded, params);

  std::string no_target_nul = std::string(64, 'w') + Zeros(32) + "x\0"s;
  Result<TriggerServiceParams3> bad = DecodeTriggerServiceParams3(no_target_nul);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "trigger_service_params3.target_domain: not NUL-terminated within 64 bytes");
}

TEST(QrexecFrame, TriggerServiceParams4AddsTheRequestedSource) {
  TriggerServiceParams4 params{"", "@dispvm", "SOCKET7", "qubes.OpenInVM"};
  std::string bytes =
      Zeros(64) + "@dispvm"s + Zeros(57) + "SOCKET7"s + Zeros(25) + "qubes.OpenInVM\0"s;
  Result<std::string> encoded = EncodeTriggerServiceParams4(params);
  ASSERT_TRUE(encoded.has_value()) << encoded.error().message();
  EXPECT_EQ(*encoded, bytes);
  Result<TriggerServiceParams4> decoded = DecodeTriggerServiceParams4(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(*decoded, params);

  Result<TriggerServiceParams4> no_name = DecodeTriggerServiceParams4(Zeros(160) + "\0"s);
  ASSERT_FALSE(no_name.has_value());
  EXPECT_EQ(no_name.error().message(), "trigger_service_params4.service_name: empty");
  Result<TriggerServiceParams4> short_one = DecodeTriggerServiceParams4(Zeros(96) + "x\0"s);
  ASSERT_FALSE(short_one.has_value());
  EXPECT_EQ(short_one.error().message(),
            "trigger_service_params4: 98 bytes is below the minimum of 161 for "
            "MSG_TRIGGER_SERVICE4");
  EXPECT_FALSE(EncodeTriggerServiceParams4({std::string(64, 's'), "t", "i", "x"}).has_value());
}

TEST(QrexecFrame, ServiceConnectIsExecParamsAndA32ByteNulPaddedIdent) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  ServiceConnect connect{{7, 515}, "SOCKET11"};
  std::string bytes = "\x07\x00\x00\x00\x03\x02\x00\x00"s + "SOCKET11"s + Zeros(24);
  Result<std::string> encoded = EncodeServiceConnect(connect);
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(*encoded, bytes);
  EXPECT_EQ(encoded->size(), kServiceConnectSize);
  Result<ServiceConnect> decoded = DecodeServiceConnect(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(*decoded, connect);

  // The old qnet layout (a NUL-terminated ident right after exec_params) is refused.
  Result<ServiceConnect> old =
      DecodeServiceConnect("\x07\x00\x00\x00\x03\x02\x00\x00"s + "SOCKET11\0"s);
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().message(),
            "service_connect: 17 bytes for MSG_SERVICE_CONNECT, expected 40");
  Result<ServiceConnect> unterminated =
      DecodeServiceConnect("\x07\x00\x00\x00\x03\x02\x00\x00"s + std::string(32, 'x'));
  ASSERT_FALSE(unterminated.has_value());
  EXPECT_EQ(unterminated.error().message(),
            "service_params.ident: not NUL-terminated within 32 bytes");
}

TEST(QrexecFrame, DaemonPortReplyIsExactlyExecParams) {
  SKIP_UNLESS_LITTLE_ENDIAN();
  EXPECT_EQ(EncodeVchanPort({3, 513}), "\x03\x00\x00\x00\x01\x02\x00\x00"s);
  Result<VchanPort> port = DecodeVchanPort("\x03\x00\x00\x00\x01\x02\x00\x00"s);
  ASSERT_TRUE(port.has_value());
  EXPECT_EQ(*port, (VchanPort{3, 513}));
  Result<VchanPort> longer = DecodeVchanPort(Zeros(9));
  ASSERT_FALSE(longer.has_value());
  EXPECT_EQ(longer.error().message(), "exec_params: 9 bytes, a port reply has 8");
}

TEST(QrexecFrame, ChunkSizeFollowsTheNegotiatedVersion) {
  EXPECT_EQ(MaxDataChunk(2), 4096u);
  EXPECT_EQ(MaxDataChunk(3), 65536u);
  EXPECT_EQ(MaxDataChunk(4), 65536u);
  std::string data(10000, 'x');
  EXPECT_EQ(ChunkData(data, 2).size(), 3u);
  EXPECT_EQ(ChunkData(data, 3).size(), 1u);
}

TEST(QrexecFrame, EncodeFrameRefusesPayloadAPeerWouldReject) {
  Result<std::string> big = EncodeFrame(MsgType::kDataStdout, std::string(kMaxDataChunk + 1, 'x'));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(big.error().message(),
            "payload: 65537 bytes exceeds the maximum of 65536 for MSG_DATA_STDOUT");
  EXPECT_TRUE(EncodeFrame(MsgType::kDataStdout, std::string(kMaxDataChunk, 'x')).has_value());
  EXPECT_FALSE(EncodeFrame(MsgType::kHello, "").has_value());
  EXPECT_FALSE(EncodeFrame(static_cast<MsgType>(0x1234), "").has_value());
}

TEST(QrexecFrame, ChunkDataSplitsAtMaxDataChunk) {
  std::string data(2 * kMaxDataChunk + 1, 'x');
  std::vector<std::string_view> chunks = ChunkData(data);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].size(), kMaxDataChunk);
  EXPECT_EQ(chunks[1].size(), kMaxDataChunk);
  EXPECT_EQ(chunks[2].size(), 1u);
  EXPECT_TRUE(ChunkData("").empty());
}

TEST(QrexecFrame, MessageTypesHaveQubesValuesAndNames) {
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kDataStdin), 0x190u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kDataExitCode), 0x193u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kExecCmdline), 0x200u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kServiceRefused), 0x203u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kTriggerService), 0x210u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kConnectionTerminated), 0x211u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kTriggerService3), 0x212u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kTriggerService4), 0x213u);
  EXPECT_EQ(static_cast<uint32_t>(MsgType::kHello), 0x300u);
  EXPECT_EQ(MsgTypeName(MsgType::kServiceConnect), "MSG_SERVICE_CONNECT");
  EXPECT_EQ(MsgTypeName(static_cast<MsgType>(0x1234)), "MSG_0x1234");
  EXPECT_EQ(MsgTypeFromWire(0x191), MsgType::kDataStdout);
  EXPECT_EQ(MsgTypeFromWire(0x194), std::nullopt);
}

}  // namespace
}  // namespace qnet::qrexec
