// nftables ruleset value types: tables, chains, rules (as lists of kernel
// expressions), sets, set elements and named counters.
//
// Pure values, no I/O. Expressions mirror the kernel's nft expressions one to
// one (registers, keys and operators use the kernel's constants from
// <linux/netfilter/nf_tables.h>), so that a Rule encodes to exactly the
// expressions listed and decodes back equal. Readable rules are written with
// the builders in match.h. All types are regular values: copyable, comparable
// with ==, thread-compatible.
#pragma once

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

// GCC 12 misreads small_vector's inline-buffer copies (-Wstringop-overread).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include <boost/container/small_vector.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace qnet::nft {

// Small values (addresses, ports, interface names, masks) stay inline: a
// ruleset holds tens of thousands of them and each heap block costs more
// than its bytes.
using Bytes = boost::container::small_vector<uint8_t, 16>;

// Table family; values are the kernel's NFPROTO_* numbers.
enum class Family : uint8_t {
  kInet = NFPROTO_INET,
  kIp = NFPROTO_IPV4,
  kIp6 = NFPROTO_IPV6,
};
const char* FamilyName(Family f);  // "inet", "ip", "ip6"

struct Table {
  Family family = Family::kInet;
  std::string name;
  bool operator==(const Table&) const = default;
};

enum class ChainType : uint8_t { kFilter, kNat };
// Netfilter hooks; values are NF_INET_*.
enum class Hook : uint8_t {
  kPrerouting = NF_INET_PRE_ROUTING,
  kInput = NF_INET_LOCAL_IN,
  kForward = NF_INET_FORWARD,
  kOutput = NF_INET_LOCAL_OUT,
  kPostrouting = NF_INET_POST_ROUTING,
};
enum class Policy : uint8_t { kAccept, kDrop };
const char* ChainTypeName(ChainType t);  // "filter", "nat"
const char* HookName(Hook h);            // "prerouting", "input", ...
const char* PolicyName(Policy p);        // "accept", "drop"

// What makes a chain a base chain: it is attached to a netfilter hook.
struct BaseHook {
  ChainType type = ChainType::kFilter;
  Hook hook = Hook::kInput;
  int32_t priority = 0;
  Policy policy = Policy::kAccept;
  bool operator==(const BaseHook&) const = default;
};

// A chain; without `base` it is a regular chain (reached by jump/goto only).
struct Chain {
  std::string name;
  std::optional<BaseHook> base;
  bool operator==(const Chain&) const = default;
};

// ---- Expressions (one struct per kernel expression) ----

// meta load: dreg = meta key (NFT_META_IIFNAME, NFT_META_L4PROTO, ...).
struct Meta {
  uint32_t key = 0;
  uint32_t dreg = NFT_REG_1;
  bool operator==(const Meta&) const = default;
};

// payload load: dreg = len bytes at base (NFT_PAYLOAD_NETWORK_HEADER, ...) + offset.
struct Payload {
  uint32_t base = NFT_PAYLOAD_NETWORK_HEADER;
  uint32_t offset = 0;
  uint32_t len = 0;
  uint32_t dreg = NFT_REG_1;
  bool operator==(const Payload&) const = default;
};

// cmp: compares sreg with data (network byte order as loaded); op is NFT_CMP_*.
struct Cmp {
  uint32_t op = NFT_CMP_EQ;
  uint32_t sreg = NFT_REG_1;
  Bytes data;
  bool operator==(const Cmp&) const = default;
};

// bitwise: dreg = (sreg & mask) ^ xor_value, over len bytes.
struct Bitwise {
  uint32_t sreg = NFT_REG_1;
  uint32_t dreg = NFT_REG_1;
  uint32_t len = 0;
  Bytes mask;
  Bytes xor_value;
  bool operator==(const Bitwise&) const = default;
};

// range: sreg within [from, to] (op NFT_RANGE_EQ) or outside (NFT_RANGE_NEQ).
struct Range {
  uint32_t op = NFT_RANGE_EQ;
  uint32_t sreg = NFT_REG_1;
  Bytes from;
  Bytes to;
  bool operator==(const Range&) const = default;
};

// byteorder: dreg = sreg converted hton (NFT_BYTEORDER_HTON) or ntoh, over
// len bytes in units of size (2, 4 or 8) bytes. Loads like `meta time` are
// in host order; a cmp lt/gt compares bytes in order, so such a value is
// converted to network order first (as nft does).
struct Byteorder {
  uint32_t sreg = NFT_REG_1;
  uint32_t dreg = NFT_REG_1;
  uint32_t op = NFT_BYTEORDER_HTON;
  uint32_t len = 0;
  uint32_t size = 0;
  bool operator==(const Byteorder&) const = default;
};

enum class VerdictCode : uint8_t { kAccept, kDrop, kJump, kGoto, kReturn, kContinue };
const char* VerdictName(VerdictCode c);      // "accept", "drop", "jump", ...
const char* CmpOpName(uint32_t op);          // NFT_CMP_*: "eq", "neq", "lt", ...
const char* PayloadBaseName(uint32_t base);  // NFT_PAYLOAD_*: "link", "network", "transport"

// immediate into the verdict register; chain only for kJump/kGoto.
struct Verdict {
  VerdictCode code = VerdictCode::kAccept;
  std::string chain;
  bool operator==(const Verdict&) const = default;
};

// immediate data into a data register (e.g. the address for a dnat).
struct ImmediateData {
  uint32_t dreg = NFT_REG_1;
  Bytes data;
  bool operator==(const ImmediateData&) const = default;
};

// Anonymous counter (its values are not part of the value; see readback.h).
// An anonymous counter. packets/bytes are what the kernel counted, filled
// by read-back and never encoded; they are state, not part of the rule, so
// two counters always compare equal.
struct Counter {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool operator==(const Counter&) const { return true; }
};

// objref to a named counter object in the same table.
struct ObjRef {
  std::string name;
  bool operator==(const ObjRef&) const = default;
};

// lookup of sreg in a set; with dreg = NFT_REG_VERDICT on a verdict map it is
// a `vmap` dispatch; invert matches when the key is absent.
struct Lookup {
  std::string set;
  uint32_t sreg = NFT_REG_1;
  std::optional<uint32_t> dreg;
  bool invert = false;
  bool operator==(const Lookup&) const = default;
};

// ct load: dreg = conntrack key (NFT_CT_STATE, NFT_CT_DST_IP, ...);
// direction IP_CT_DIR_ORIGINAL (0) / IP_CT_DIR_REPLY (1) where the key needs one.
struct Ct {
  uint32_t key = NFT_CT_STATE;
  uint32_t dreg = NFT_REG_1;
  std::optional<uint8_t> direction;
  bool operator==(const Ct&) const = default;
};

enum class NatType : uint8_t { kSnat = NFT_NAT_SNAT, kDnat = NFT_NAT_DNAT };

// nat: address (and optionally port, network order u16) taken from registers.
// flags: extra NF_NAT_RANGE_* flags; the ones the kernel implies from the
// registers (MAP_IPS, PROTO_SPECIFIED) are never stored here.
struct Nat {
  NatType type = NatType::kDnat;
  Family family = Family::kIp;  // kIp or kIp6
  uint32_t reg_addr_min = NFT_REG_1;
  std::optional<uint32_t> reg_proto_min;
  uint32_t flags = 0;
  bool operator==(const Nat&) const = default;
};

struct Masq {
  uint32_t flags = 0;
  bool operator==(const Masq&) const = default;
};

// reject: type NFT_REJECT_ICMP_UNREACH (icmp or icmpv6 by packet family),
// NFT_REJECT_TCP_RST (code unused, 0) or NFT_REJECT_ICMPX_UNREACH (code
// NFT_REJECT_ICMPX_*).
struct Reject {
  uint32_t type = NFT_REJECT_ICMPX_UNREACH;
  uint8_t code = 0;
  bool operator==(const Reject&) const = default;
};

// An expression qnet does not encode: a kernel expression it does not model
// (read back from a table), or a builder's refusal of bad input (match.h).
// Batch refuses any rule containing one, with `what` in the error.
struct Unsupported {
  std::string what;
  bool operator==(const Unsupported&) const = default;
};

using Expr = std::variant<Meta, Payload, Cmp, Bitwise, Range, Byteorder, Verdict, ImmediateData,
                          Counter, ObjRef, Lookup, Ct, Nat, Masq, Reject, Unsupported>;

// A rule: appended to `chain` (of the table the batch names). The comment is
// stored as nft-compatible userdata (shown by `nft list`).
struct Rule {
  std::string chain;
  std::vector<Expr> exprs;
  std::optional<std::string> comment;
  bool operator==(const Rule&) const = default;
};

// ---- Sets and maps ----

// nftables data types (nft's TYPE_* ids, as `nft list` understands them).
enum class DataType : uint32_t {
  kVerdict = 1,
  kIpv4Addr = 7,
  kIpv6Addr = 8,
  kInetProto = 12,
  kInetService = 13,
  kMark = 19,
  kIfname = 41,
};
// Bytes of one value of t (ifname 16, ipv4 4, ipv6 16, service 2, proto 1,
// mark 4; verdict 0).
uint32_t DataTypeLen(DataType t);
const char* DataTypeName(DataType t);  // "ipv4_addr", "ifname", ...

struct Set {
  std::string name;
  // One type, or several for a concatenation (each field padded to 4 bytes).
  std::vector<DataType> key;
  bool constant = false;  // contents may not change once a rule uses it
  bool interval = false;  // elements may be ranges (SetElement::key_end)
  bool timeout = false;   // elements may carry timeouts
  // Set: nullopt. Map: the data type (kVerdict for a verdict map, or an address type).
  std::optional<DataType> data;
  std::optional<std::chrono::milliseconds> default_timeout;
  bool operator==(const Set&) const = default;
};

// The key length in bytes (concatenation fields padded to 4) and the kernel
// key type id (concatenations: 6 bits per field, as nft encodes them).
uint32_t SetKeyLen(const Set& s);
uint32_t SetKeyTypeId(const Set& s);

// One element. Keys are raw bytes in the order the rule loads them (see the
// key helpers in match.h). key_end: inclusive end of a range, interval sets only.
struct SetElement {
  Bytes key;
  std::optional<Bytes> key_end;
  std::optional<Verdict> verdict;  // verdict maps
  std::optional<Bytes> data;       // data maps
  std::optional<std::chrono::milliseconds> timeout;
  bool operator==(const SetElement&) const = default;
};

// An nft named counter object (`counter name X` in rules references it).
struct CounterObject {
  std::string name;
  bool operator==(const CounterObject&) const = default;
};

// Text for logs, test failures and the firewall's golden files, close to
// `nft --debug=netlink` output with keys named: "meta load iifname => reg 1",
// "cmp eq reg 1 0x0a890003", "lookup reg 1 set fw-vifs", "immediate reg 0
// jump fw-3". The one printer of expressions; a Rule prints as its chain,
// comment and one "[ expr ]" line per expression.
std::string ToString(const Expr& e);
std::string ToString(const Verdict& v);  // "accept", "jump fw-3"
// Bytes in order, grouped by 4: "0x0a890003 0x01".
std::string HexBytes(const Bytes& b);
std::string ToString(const Rule& r);
std::string ToString(const Chain& c);

}  // namespace qnet::nft
