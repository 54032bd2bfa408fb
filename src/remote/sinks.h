// What receives the body of one attempt of a remote call: a whole JSON
// document, or a stream of server-sent events whose text is passed on as it
// arrives. RemoteModel::call() drives a sink through its retries: begin()
// before each attempt, body() per piece, end() once a 2xx body is complete.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/types.h"
#include "remote/openai.h"
#include "remote/remote_model.h"
#include "remote/sse.h"

namespace tandem::remote {

class RemoteModel::Sink {
 public:
  virtual ~Sink() = default;
  virtual bool streaming() const = 0;
  // A new attempt: forget the last one's partial body. Never called once
  // committed() (the caller does not retry then).
  virtual void begin() = 0;
  // One piece of a 2xx body. False stops the read: see cancelled() and error().
  virtual bool body(std::string_view piece) = 0;
  // The body is complete. Throws tandem::Error when it is malformed or cut short.
  virtual void end() = 0;
  // Text has been passed on to the caller: the call must not be retried.
  virtual bool committed() const { return false; }
  // The caller's callback asked to stop.
  virtual bool cancelled() const { return false; }
  // Why body() returned false when not cancelled.
  const std::string& error() const { return error_; }
  // An exception thrown by the caller's callback, rethrown by call().
  std::exception_ptr callback_exception;

 protected:
  std::string error_;
};

// Collects the body and parses it as JSON.
class JsonSink : public RemoteModel::Sink {
 public:
  bool streaming() const override { return false; }
  void begin() override { body_.clear(); }
  bool body(std::string_view piece) override;
  void end() override;
  const nlohmann::json& json() const { return json_; }

 private:
  std::string body_;
  nlohmann::json json_;
};

// Parses server-sent events of chat or completion chunks, and passes each
// piece of text on to the caller's callback as it arrives.
class StreamSink : public RemoteModel::Sink {
 public:
  StreamSink(Api api, const api::StreamCallback& on_text);
  bool streaming() const override { return true; }
  void begin() override;
  bool body(std::string_view piece) override;
  void end() override;
  bool committed() const override { return !answer_.text.empty(); }
  bool cancelled() const override { return cancelled_; }
  const Answer& answer() const { return answer_; }

 private:
  bool on_event(const SseEvent& event);

  Api api_;
  const api::StreamCallback& on_text_;
  SseParser parser_;
  Answer answer_;
  bool done_ = false;
  bool cancelled_ = false;
};

}  // namespace tandem::remote
