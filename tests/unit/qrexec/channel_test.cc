// Channel over real socketpairs: messages, fd passing, timeouts, peer close,
// and malformed input from a raw peer.
#include "qnet/qrexec/channel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace qnet::qrexec {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe MakePipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::pair<Channel, Channel> MakePair() {
  Result<std::pair<Channel, Channel>> pair = Channel::Pair();
  EXPECT_TRUE(pair.has_value());
  return std::move(pair).value();
}

// A channel and the raw socket of its peer, to send arbitrary bytes.
std::pair<Channel, UniqueFd> ChannelWithRawPeer() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {Channel(UniqueFd(fds[0])), UniqueFd(fds[1])};
}

TEST(QrexecChannel, DeliversMessagesInOrder) {
  auto [a, b] = MakePair();
  ASSERT_TRUE(a.Send(MsgType::kHello, EncodeHello({})).ok());
  ASSERT_TRUE(a.Send(MsgType::kDataStdin, "payload").ok());
  ASSERT_TRUE(a.Send(MsgType::kDataStdin, "").ok());

  Result<Message> hello = b.Receive(1s);
  ASSERT_TRUE(hello.has_value()) << hello.error().message();
  EXPECT_EQ(hello->type, MsgType::kHello);
  EXPECT_EQ(DecodeHello(hello->payload)->version, kProtocolVersion);
  Result<Message> data = b.Receive(1s);
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->type, MsgType::kDataStdin);
  EXPECT_EQ(data->payload, "payload");
  EXPECT_TRUE(data->fds.empty());
  Result<Message> eof = b.Receive(1s);
  ASSERT_TRUE(eof.has_value());
  EXPECT_EQ(eof->payload, "");
}

TEST(QrexecChannel, PassesAPipeEndThatWorksOnTheOtherSide) {
  auto [a, b] = MakePair();
  Pipe pipe = MakePipe();
  Message message{MsgType::kDataStdout, "take this", {}};
  message.fds.push_back(std::move(pipe.write));
  ASSERT_TRUE(a.Send(message).ok());
  message.fds.clear();  // our copy is closed; only the received one remains

  Result<Message> got = b.Receive(1s);
  ASSERT_TRUE(got.has_value()) << got.error().message();
  ASSERT_EQ(got->fds.size(), 1u);
  EXPECT_EQ(got->payload, "take this");
  EXPECT_TRUE(::fcntl(got->fds[0].get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(::write(got->fds[0].get(), "through the pipe", 16), 16);
  got->fds.clear();  // last write end closed: the reader sees EOF after the data

  Result<std::string> read = ReadAll(pipe.read.get());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, "through the pipe");
}

TEST(QrexecChannel, AttributesFdsToTheMessageThatCarriedThem) {
  auto [a, b] = MakePair();
  Pipe p1 = MakePipe();
  Pipe p2 = MakePipe();
  ASSERT_TRUE(a.Send(MsgType::kDataStdin, "first").ok());
  Message second{MsgType::kDataStdin, std::string(100000 % kMaxDataChunk, 'x'), {}};
  second.fds.push_back(std::move(p1.write));
  second.fds.push_back(std::move(p2.write));
  ASSERT_TRUE(a.Send(second).ok());
  ASSERT_TRUE(a.Send(MsgType::kDataStdin, "third").ok());

  Result<Message> m1 = b.Receive(1s);
  Result<Message> m2 = b.Receive(1s);
  Result<Message> m3 = b.Receive(1s);
  ASSERT_TRUE(m1.has_value() && m2.has_value() && m3.has_value());
  EXPECT_TRUE(m1->fds.empty());
  EXPECT_EQ(m2->fds.size(), 2u);
  EXPECT_EQ(m2->payload.size(), 100000 % kMaxDataChunk);
  EXPECT_TRUE(m3->fds.empty());
  EXPECT_EQ(m3->payload, "third");
}

TEST(QrexecChannel, CarriesAFullDataChunk) {
  auto pair = MakePair();
  Channel& a = pair.first;
  Channel& b = pair.second;
  std::string big(kMaxDataChunk, 'z');
  big[0] = 'a';
  big.back() = 'b';
  std::thread sender([&a, &big] { EXPECT_TRUE(a.Send(MsgType::kDataStdout, big, 5s).ok()); });
  Result<Message> got = b.Receive(5s);
  sender.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, big);
}

TEST(QrexecChannel, ReceiveTimesOutWhenNothingArrives) {
  auto [a, b] = MakePair();
  auto start = std::chrono::steady_clock::now();
  Result<Message> got = b.Receive(50ms);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Errc::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  // Still usable afterwards.
  ASSERT_TRUE(a.Send(MsgType::kDataStdin, "late").ok());
  EXPECT_EQ(b.Receive(1s)->payload, "late");
}

TEST(QrexecChannel, ReceiveAfterTimeoutMidMessageContinuesIt) {
  auto [channel, raw] = ChannelWithRawPeer();
  std::string frame = *EncodeFrame(MsgType::kDataStdout, "0123456789");
  ASSERT_EQ(::write(raw.get(), frame.data(), 11), 11);
  Result<Message> partial = channel.Receive(20ms);
  ASSERT_FALSE(partial.has_value());
  EXPECT_EQ(partial.error().code(), Errc::kTimeout);
  ASSERT_EQ(::write(raw.get(), frame.data() + 11, frame.size() - 11),
            static_cast<ssize_t>(frame.size() - 11));
  Result<Message> whole = channel.Receive(1s);
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(whole->payload, "0123456789");
}

TEST(QrexecChannel, PeerCloseIsUnavailable) {
  auto [a, b] = MakePair();
  { Channel gone = std::move(a); }
  Result<Message> got = b.Receive(1s);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Errc::kUnavailable);
  EXPECT_EQ(got.error().message(), "qrexec channel: peer closed");
  Status sent = b.Send(MsgType::kDataStdin, "x");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), Errc::kUnavailable);
}

TEST(QrexecChannel, CloseWriteLetsThePeerSeeEof) {
  auto [a, b] = MakePair();
  ASSERT_TRUE(a.Send(MsgType::kDataStdin, "last").ok());
  ASSERT_TRUE(a.CloseWrite().ok());
  EXPECT_EQ(b.Receive(1s)->payload, "last");
  EXPECT_EQ(b.Receive(1s).error().code(), Errc::kUnavailable);
}

TEST(QrexecChannel, PeerCloseMidMessageNamesTheTruncation) {
  auto [channel, raw] = ChannelWithRawPeer();
  std::string frame = EncodeHeader({MsgType::kDataStdin, 10}) + "ab";
  ASSERT_EQ(::write(raw.get(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  raw.reset();
  Result<Message> got = channel.Receive(1s);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Errc::kUnavailable);
  EXPECT_EQ(got.error().message(),
            "qrexec channel: peer closed mid-message: truncated MSG_DATA_STDIN: payload has 2 "
            "of 10 bytes");
}

TEST(QrexecChannel, GarbageBreaksTheReceiveSide) {
  auto [channel, raw] = ChannelWithRawPeer();
  std::string garbage = EncodeHeader({static_cast<MsgType>(0xdead), 0});
  ASSERT_EQ(::write(raw.get(), garbage.data(), garbage.size()), 8);
  Result<Message> got = channel.Receive(1s);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Errc::kProtocol);
  EXPECT_EQ(got.error().message(), "qrexec channel: msg_header.type: unknown message type 0xdead");
  Result<Message> again = channel.Receive(1s);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Errc::kFailedPrecondition);
}

TEST(QrexecChannel, OversizedLengthIsRefusedWithoutWaitingForThePayload) {
  auto [channel, raw] = ChannelWithRawPeer();
  std::string header = EncodeHeader({MsgType::kDataStdout, 1u << 30});
  ASSERT_EQ(::write(raw.get(), header.data(), header.size()), 8);
  Result<Message> got = channel.Receive(1s);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Errc::kProtocol);
  EXPECT_EQ(got.error().message(),
            "qrexec channel: msg_header.len: 1073741824 bytes exceeds the maximum of 65536 for "
            "MSG_DATA_STDOUT");
}

TEST(QrexecChannel, SendRefusesInvalidMessagesBeforeWriting) {
  auto [a, b] = MakePair();
  Status bad_len = a.Send(MsgType::kHello, "abc");
  ASSERT_FALSE(bad_len.ok());
  EXPECT_EQ(bad_len.error().code(), Errc::kInvalidArgument);
  Message too_many{MsgType::kDataStdin, "x", {}};
  for (size_t i = 0; i <= kMaxFdsPerMessage; ++i) too_many.fds.emplace_back(::dup(0));
  Status fds = a.Send(too_many);
  ASSERT_FALSE(fds.ok());
  EXPECT_EQ(fds.error().code(), Errc::kInvalidArgument);
  // Nothing reached the peer.
  EXPECT_EQ(b.Receive(20ms).error().code(), Errc::kTimeout);
}

TEST(QrexecChannel, SendTimeoutMidMessageBreaksTheSendSide) {
  auto [a, b] = MakePair();
  // A tiny send buffer that nobody drains: a full data chunk cannot go out
  // whole, so the send times out with part of the message on the wire.
  int small = 4096;
  ASSERT_EQ(::setsockopt(a.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  Status sent = a.Send(MsgType::kDataStdout, std::string(kMaxDataChunk, 'x'), 20ms);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), Errc::kTimeout);
  EXPECT_EQ(sent.error().message(), "qrexec channel: send: timed out");
  Status after = a.Send(MsgType::kDataStdout, "x", 20ms);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), Errc::kFailedPrecondition);
  EXPECT_EQ(after.error().message(),
            "qrexec channel: send side broken by an earlier error: qrexec channel: send: timed "
            "out");
}

}  // namespace
}  // namespace qnet::qrexec
