// Scenarios: balancer, classification, retries, budget and outliers composed as core does.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/src/lb/load_balancer.h"
#include "proxy/src/resilience/retry.h"

namespace weft::proxy::lb {
namespace {

using resilience::AttemptOutcome;
using resilience::RetryStop;
using Kind = AttemptOutcome::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;

// What an endpoint does with its n-th request (0-based).
using Behaviour = std::function<AttemptOutcome(int n)>;

AttemptOutcome status(std::uint16_t code) { return AttemptOutcome{Kind::kResponse, code}; }
Behaviour always(AttemptOutcome outcome) {
  return [outcome](int) { return outcome; };
}

struct Reply {
  std::uint16_t status = 0;  // what the client sees; 502 for a final connect failure
  std::uint32_t retries = 0;
  RetryStop stop = RetryStop::kNone;
};

class RequestScenarioTest : public ::testing::Test {
 protected:
  void setEndpoints(std::map<std::string, Behaviour> behaviours) {
    behaviours_ = std::move(behaviours);
    std::vector<Endpoint> endpoints;
    for (const auto& [address, behaviour] : behaviours_) {
      endpoints.push_back({address, 1, true});
    }
    lb_->update(endpoints);
  }

  // The retry layer over the balancer, as core composes it.
  Reply send(std::string_view method) {
    resilience::RetryState retry(settings_, budget_, random_);
    std::vector<std::string> tried;
    Reply reply;
    for (int attempt = 0; attempt < 20; ++attempt) {  // bounded; RetryState stops far earlier
      auto handle = lb_->pick(tried);
      if (!handle.ok()) {
        reply.status = 503;
        return reply;
      }
      const std::string address = handle->address();
      const AttemptOutcome outcome = behaviours_.at(address)(served_[address]++);
      clock_.advance(milliseconds(2));
      handle->complete(endpointOutcome(outcome));
      const auto decision = retry.onAttempt(resilience::classify(method, outcome, settings_));
      if (!decision.retry) {
        reply.status = outcome.kind == Kind::kResponse ? outcome.status : 502;
        reply.retries = retry.retries();
        reply.stop = decision.stop;
        return reply;
      }
      tried.push_back(address);
      clock_.advance(decision.delay);
    }
    ADD_FAILURE() << "retry loop did not stop";
    return reply;
  }

  FakeClock clock_;
  resilience::SeededRandom random_{2024};
  resilience::RetrySettings settings_;  // the defaults of DESIGN.md
  resilience::RetryBudget budget_{settings_.budget, clock_};
  std::unique_ptr<LoadBalancer> lb_ = makeLoadBalancer(BalancerSettings{}, clock_, random_);
  std::map<std::string, Behaviour> behaviours_;
  std::map<std::string, int> served_;
};

TEST_F(RequestScenarioTest, Then503Then200ClientSees200OneRetryCounted) {
  setEndpoints({{"10.0.0.1:80", [](int n) { return status(n == 0 ? 503 : 200); }}});
  const Reply reply = send("GET");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.retries, 1u);
  EXPECT_EQ(reply.stop, RetryStop::kSucceeded);
  EXPECT_EQ(served_["10.0.0.1:80"], 2);
}

TEST_F(RequestScenarioTest, PostGets503WithoutRetry) {
  setEndpoints({{"10.0.0.1:80", always(status(503))}, {"10.0.0.2:80", always(status(200))}});
  int retried = 0;
  for (int i = 0; i < 50; ++i) {
    const Reply reply = send("POST");
    retried += static_cast<int>(reply.retries);
    if (reply.status == 503) {
      EXPECT_EQ(reply.stop, RetryStop::kNotRetryable);
    }
  }
  EXPECT_EQ(retried, 0);
}

// One of three endpoints is dead (connections refused): no request fails,
// whatever its method, and the dead endpoint is ejected after 5 failures.
TEST_F(RequestScenarioTest, DeadEndpointNeverFailsARequestAndIsEjected) {
  setEndpoints({{"10.0.0.1:80", always(status(200))},
                {"10.0.0.2:80", always(AttemptOutcome{Kind::kConnectFailure, 0})},
                {"10.0.0.3:80", always(status(200))}});
  int failed = 0;
  std::uint32_t retries = 0;
  for (int i = 0; i < 1000; ++i) {
    const Reply reply = send(i % 2 == 0 ? "GET" : "POST");
    failed += reply.status == 200 ? 0 : 1;
    retries += reply.retries;
    clock_.advance(milliseconds(10));
  }
  EXPECT_EQ(failed, 0);
  // Each try of the dead endpoint costs one retry; peak-EWMA's penalty and
  // then ejection keep them rare.
  EXPECT_GE(served_["10.0.0.2:80"], 1);
  EXPECT_LE(retries, 10u);
  EXPECT_EQ(static_cast<std::uint32_t>(served_["10.0.0.2:80"]), retries);
}

TEST_F(RequestScenarioTest, EjectionFollowsFiveConsecutiveConnectFailures) {
  BalancerSettings settings;
  settings.algorithm = Algorithm::kRoundRobin;
  lb_ = makeLoadBalancer(settings, clock_, random_);
  setEndpoints({{"10.0.0.1:80", always(status(200))},
                {"10.0.0.2:80", always(AttemptOutcome{Kind::kConnectFailure, 0})},
                {"10.0.0.3:80", always(status(200))}});
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(send("GET").status, 200);
  }
  // Round robin keeps offering it until the fifth failure ejects it.
  EXPECT_EQ(served_["10.0.0.2:80"], 5);
  EXPECT_TRUE(lb_->outliers().isEjected("10.0.0.2:80"));
  // After the ejection, a single probe; it fails, and the ejection doubles.
  clock_.advance(seconds(30));
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(send("GET").status, 200);
  }
  EXPECT_EQ(served_["10.0.0.2:80"], 6);
  // The probe failed within the last second, so about 60 s remain.
  const auto left = lb_->outliers().ejectedUntil("10.0.0.2:80") - clock_.now();
  EXPECT_GT(left, seconds(59));
  EXPECT_LE(left, seconds(60));
}

// Every endpoint answers 503: retries stay within the budget, so an outage
// is not multiplied by the retry count.
TEST_F(RequestScenarioTest, OutageRetriesStayWithinTheBudget) {
  setEndpoints({{"10.0.0.1:80", always(status(503))}, {"10.0.0.2:80", always(status(503))}});
  std::uint32_t retries = 0;
  int budgetStops = 0;
  constexpr int kRequests = 5000;
  const auto start = clock_.now();
  for (int i = 0; i < kRequests; ++i) {  // 500 requests/s for 10 s
    const Reply reply = send("GET");
    EXPECT_EQ(reply.status, 503);
    retries += reply.retries;
    budgetStops += reply.stop == RetryStop::kBudgetExhausted ? 1 : 0;
    clock_.advance(milliseconds(2));
  }
  // Without a budget: 2 retries each, 10000. With it: 20 % plus 10/s, with
  // slack for the first window and the window's 1 s steps.
  const double elapsed = std::chrono::duration<double>(clock_.now() - start).count();
  EXPECT_LE(retries, static_cast<std::uint32_t>(0.2 * kRequests + 10 * elapsed + 200));
  EXPECT_LT(retries, static_cast<std::uint32_t>(kRequests / 2));
  EXPECT_GT(budgetStops, kRequests / 2);
}

TEST(EndpointOutcomeTest, Mapping) {
  EXPECT_EQ(endpointOutcome({Kind::kConnectFailure, 0}), Outcome::kConnectFailure);
  EXPECT_EQ(endpointOutcome({Kind::kResetBeforeSent, 0}), Outcome::kConnectFailure);
  EXPECT_EQ(endpointOutcome({Kind::kResetAfterSent, 0}), Outcome::kFailure);
  EXPECT_EQ(endpointOutcome({Kind::kTimeout, 0}), Outcome::kFailure);
  EXPECT_EQ(endpointOutcome(status(500)), Outcome::kFailure);
  EXPECT_EQ(endpointOutcome(status(503)), Outcome::kFailure);
  EXPECT_EQ(endpointOutcome(status(404)), Outcome::kSuccess);
  EXPECT_EQ(endpointOutcome(status(200)), Outcome::kSuccess);
}

}  // namespace
}  // namespace weft::proxy::lb
