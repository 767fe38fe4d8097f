#pragma once
// The two workers of each channel end.
//
// The decryptor faces the peer: it runs the handshake, then authenticates, checks against the
// replay window and decrypts every frame, and delivers the plaintext locally with the
// encryptor's address pushed on the return route (so replies go back encrypted).
// The encryptor faces local workers: what they send to the channel's address is sealed and
// sent along the route to the peer's decryptor. Each owns one direction's cipher, so the two
// directions run in parallel without locks.

#include <optional>

#include "channel_frame.hpp"
#include "channel_state.hpp"
#include "nodus/secure_channel/replay_window.hpp"

namespace nodus::secure_channel {

/// What both workers of one channel end know.
struct end_config {
  options opts;
  std::shared_ptr<channel_shared_state> channel_state;
  std::shared_ptr<listener_shared_state> listener_state;  // responders only
  std::optional<nodus::address> waiter;                   // initiators only: told when the handshake ends
  std::optional<failure> outcome;                         // initiators only: why it failed (set before telling)
  std::shared_ptr<const bytes> presented;                 // the credential our handshake message presented
};

/// The prologue both sides mix in: binds handshakes to this protocol and its version.
byte_view handshake_prologue();
/// A fresh local address `<prefix><16 hex digits>`.
nodus::address random_address(std::string_view prefix);
/// A frame to be sealed: room for the header, then the caller appends the plaintext (capacity
/// for `plaintext_size` bytes and the tag is reserved).
bytes start_frame(std::size_t plaintext_size);
/// Seals a frame begun with `start_frame`: writes the header for `sequence`, encrypts the
/// plaintext where it lies with the header as associated data, and appends the tag.
result<> seal_frame(noise_cipher& cipher, std::uint64_t sequence, bytes& frame);
/// A sealed frame holding only a content kind (close, confirmed).
result<bytes> control_frame(noise_cipher& cipher, std::uint64_t sequence, frame::content what);

class encryptor final : public raw_worker {
public:
  encryptor(noise_cipher send, std::uint64_t next_sequence, route remote, std::shared_ptr<end_config> config)
      : cipher_(std::move(send)),
        next_(next_sequence),
        remote_(std::move(remote)),
        config_(std::move(config)),
        close_at_(close_address(config_->channel_state->encryptor)),
        decryptor_route_(config_->channel_state->decryptor),
        presented_(config_->presented) {}

  /// Where `close_secure_channel` asks the encryptor to close: the channel address + ".close".
  static nodus::address close_address(const nodus::address& channel);
  /// The mailbox options: plaintext over the channel's limit is refused with `errc::too_large`;
  /// only this node's workers may send (whatever reaches the encryptor goes out as this node's
  /// word); who sends gets the replies (`origin`, the channel's flow).
  static worker_options mailbox(const options& o, std::shared_ptr<const flow_origin> origin);

  task<result<>> handle_message(context& ctx, local_message message) override;
  /// A notice made on this node about a message that came through the channel goes back to
  /// the peer inside the channel, its kind sealed with it: the peer can trust it came from us.
  task<result<>> handle_delivery_error(context& ctx, local_message notice) override;

private:
  task<result<>> close(context& ctx);
  /// Seals `frame` (begun with `start_frame`, plaintext appended) as the next frame and makes
  /// the message that carries it to the peer; `counted`: a message (the `sent` counter), not a
  /// control frame. `spent`: a message already encoded into a frame, whose storage carries this
  /// one (or an empty one).
  result<local_message> seal_for_peer(bytes frame, bool counted, local_message spent);
  /// The sealed frame of `message` (addressed to the channel, with somewhere to go after it),
  /// ready to forward to the peer.
  result<local_message> seal_message(local_message message);
  /// The message carrying `frame` to the peer's decryptor, made in `spent`'s storage.
  local_message outgoing(bytes frame, local_message spent) const;
  /// Presents this end's credential again when `credentials.present` gives a new one.
  task<result<>> present_fresh_credential(context& ctx);

  noise_cipher cipher_;
  std::uint64_t next_;
  route remote_;
  std::shared_ptr<end_config> config_;
  nodus::address close_at_;                 // close_address(channel), built once rather than per message
  route decryptor_route_;                   // the return route of every frame: this end's decryptor
  std::shared_ptr<const bytes> presented_;  // the credential the peer has from us
};

class decryptor final : public raw_worker {
public:
  /// `remote`: for an initiator, the route to the listener; for a responder, empty (it is
  /// learnt from handshake message 1).
  decryptor(noise_xx_handshake handshake, route remote, std::shared_ptr<end_config> config)
      : handshake_(std::move(handshake)),
        remote_(std::move(remote)),
        config_(std::move(config)),
        window_(config_->opts.replay_window) {}

  task<result<>> initialize(context& ctx) override;
  task<result<>> handle_message(context& ctx, local_message message) override;
  /// A notice from the network is unauthenticated (any node on the path could forge it). During
  /// the initiator's handshake, when nothing is authenticated yet either, it ends the handshake
  /// as an abort frame would (e.g. the listener does not exist); otherwise it is logged and
  /// dropped, and the channel goes on as if it had not come.
  task<result<>> handle_delivery_error(context& ctx, local_message notice) override;
  task<> shutdown(context& ctx) override;

private:
  bool initiator() const { return config_->waiter.has_value(); }
  /// Every frame but an encrypted one: handshake messages, aborts, the handshake timeout.
  task<result<>> handle_other(context& ctx, local_message message);
  task<result<>> on_handshake(context& ctx, frame::kind kind, local_message message);
  /// What an encrypted frame asks for once opened.
  struct opened {
    enum class action : std::uint8_t { none, deliver, confirmed, closed };
    action what = action::none;  // none: dropped (counted and logged) or taken in (a credential)
    local_message message;       // deliver: the inner message, ready to forward
    std::uint64_t sequence = 0;
  };
  /// Checks an encrypted frame against the replay window, authenticates and decrypts it in
  /// place (`message.payload`), moves the window, and decodes the inner message to deliver.
  opened open_encrypted(context& ctx, frame::parsed frame, local_message& message);
  /// What a confirmation or a close asks for.
  task<result<>> on_control(context& ctx, opened::action what);
  task<result<>> on_abort(context& ctx, std::string reason);
  task<result<>> complete_handshake(context& ctx);
  task<result<>> end_handshake(context& ctx, failure why, bool tell_peer);
  task<result<>> tell_waiter(context& ctx);
  /// Authenticates and decrypts in place with the key of `sequence`'s epoch.
  result<> open(std::uint64_t sequence, byte_view header, std::span<std::uint8_t> text_and_tag);
  /// The peer's fresh credential, sent inside the channel: verified, it replaces the held one.
  void on_credential(context& ctx, byte_view credential);
  /// With credentials required: false (logged once per lapse) when the peer's has expired.
  bool peer_credential_valid(context& ctx);

  std::optional<verified_credential> peer_credential_;  // the channel state's copy, read per message
  bool lapse_logged_ = false;
  std::optional<noise_xx_handshake> handshake_;
  route remote_;
  std::shared_ptr<end_config> config_;
  replay_window window_;
  std::optional<noise_cipher> current_;   // receiving key of epoch `epoch_`
  std::optional<noise_cipher> previous_;  // of epoch `epoch_ - 1`, for stragglers
  std::uint64_t epoch_ = 0;
  bool established_ = false;  // keys in place (an initiator still waits for `confirmed`)
  bool counted_pending_ = false;
};

/// The listener: one responder (a decryptor in handshake state) per handshake message 1.
class listener_worker final : public raw_worker {
public:
  explicit listener_worker(std::shared_ptr<listener_shared_state> state, options o)
      : state_(std::move(state)), opts_(std::move(o)) {}
  task<result<>> handle_message(context& ctx, local_message message) override;

private:
  std::shared_ptr<listener_shared_state> state_;
  options opts_;
};

}  // namespace nodus::secure_channel
