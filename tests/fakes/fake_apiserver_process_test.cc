// weft-fake-apiserver as a real process: it prints its URL, serves HTTPS
// with a CA it writes out, requires the given token, and stops on SIGTERM.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/kube/http_kube_api.h"
#include "tests/support/process.h"

namespace weft::testing {
namespace {

TEST(FakeApiServerProcessTest, ServesTheClientOverHttps) {
  auto dir = std::filesystem::temp_directory_path() /
             ("weft-fake-apiserver-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string out = (dir / "out.log").string();
  std::string ca = (dir / "ca.crt").string();
  Child child({WEFT_FAKE_APISERVER_BIN, "--tls", "--ca-out", ca, "--token", "t0k"}, out);

  std::string url;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (url.empty() && std::chrono::steady_clock::now() < deadline) {
    auto text = readFile(out);
    if (text.ok() && text->find('\n') != std::string::npos) {
      url = text->substr(0, text->find('\n'));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ASSERT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;

  kube::KubeConfig config;
  config.server = url;
  config.caPem = readFile(ca).valueOr("");
  config.token = "t0k";
  auto api = kube::HttpKubeApi::create(config);
  ASSERT_TRUE(api.ok());
  ASSERT_TRUE((*api)
                  ->create(kube::resources::configMaps(), "default",
                           nlohmann::json{{"metadata", {{"name", "cm"}}}, {"data", {{"k", "v"}}}})
                  .ok());
  auto got = (*api)->get(kube::resources::configMaps(), "default", "cm");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["data"]["k"], "v");

  config.token = "wrong";
  auto stranger = kube::HttpKubeApi::create(config);
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ((*stranger)->get(kube::resources::configMaps(), "default", "cm").error().code,
            ErrorCode::kUnauthenticated);

  EXPECT_EQ(child.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace weft::testing
