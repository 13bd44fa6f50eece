// `weftctl inject` as a real process on multi-document YAML and JSON input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/json/json.h"
#include "common/yaml/yaml.h"
#include "tests/common/http/test_tls.h"
#include "tests/support/process.h"

namespace weft {
namespace {

using json::Json;
using ::testing::HasSubstr;

constexpr const char* kManifests = R"(# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations:
        config.weft.io/skip-outbound-ports: "5432"
    spec:
      containers:
        - name: web
          image: web:1
          ports: [{containerPort: 8080, name: http}]
          readinessProbe:
            httpGet: {path: /healthz, port: http}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: demo
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: report
              image: report:1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: demo
data:
  mode: "on"
  port: "8080"
)";

std::vector<std::string> names(const Json& list) {
  std::vector<std::string> out;
  for (const auto& item : list) {
    out.push_back(item["name"].get<std::string>());
  }
  return out;
}

class WeftctlInjectTest : public ::testing::Test {
 protected:
  testing::RunResult inject(const std::vector<std::string>& extra, const std::string& input = "") {
    std::vector<std::string> argv{WEFTCTL_BIN, "inject"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::runProcess(argv, input);
  }
  testing::TempDir dir_;
};

TEST_F(WeftctlInjectTest, DeploymentCronJobAndConfigMap) {
  testing::writeFileAtomically(dir_.file("app.yaml"), kManifests);
  auto r = inject({"-f", dir_.file("app.yaml")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("injected 2 pod template(s)"));
  auto docs = yaml::parseAll(r.out);
  ASSERT_TRUE(docs.ok()) << docs.error().message << "\n" << r.out;
  ASSERT_EQ(docs->size(), 3u);
  auto input = yaml::parseAll(kManifests);
  ASSERT_TRUE(input.ok());

  const Json& deployment = (*docs)[0];
  const Json& tmpl = deployment["spec"]["template"];
  EXPECT_EQ(names(tmpl["spec"]["initContainers"]),
            (std::vector<std::string>{"weft-proxy", "weft-init"}));
  EXPECT_EQ(tmpl["spec"]["initContainers"][0]["restartPolicy"], "Always");
  EXPECT_EQ(tmpl["spec"]["containers"], (*input)[0]["spec"]["template"]["spec"]["containers"]);
  EXPECT_EQ(tmpl["metadata"]["annotations"]["weft.io/probe-paths"],
            R"([{"path":"/healthz","port":8080}])");
  EXPECT_THAT(json::dump(tmpl["spec"]["initContainers"][1]["args"]),
              HasSubstr(R"("--skip-outbound-ports","5432")"));
  EXPECT_EQ(deployment["spec"]["replicas"], 2);
  EXPECT_EQ(deployment["spec"]["selector"], (*input)[0]["spec"]["selector"]);

  const Json& job = (*docs)[1]["spec"]["jobTemplate"]["spec"]["template"];
  EXPECT_EQ(names(job["spec"]["initContainers"]),
            (std::vector<std::string>{"weft-proxy", "weft-init"}));
  EXPECT_EQ(job["spec"]["restartPolicy"], "Never");
  EXPECT_EQ((*docs)[1]["spec"]["schedule"], "*/5 * * * *");

  EXPECT_EQ((*docs)[2], (*input)[2]);  // ConfigMap untouched, strings stay strings

  // Injecting the output again changes nothing.
  auto again = inject({"-f", "-"}, r.out);
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(again.out, r.out);
}

TEST_F(WeftctlInjectTest, JsonListFromStdinForOldCluster) {
  const char* list = R"({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
     "spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                                    "containers": [{"name": "work", "image": "w:1"}]}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "host",
     "annotations": {"weft.io/inject": "enabled"}},
     "spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "a"}]}}]})";
  auto r = inject({"-f", "-", "--kube-version", "v1.27.3"}, list);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("hostNetwork"));
  auto docs = yaml::parseAll(r.out);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  const Json& job = (*docs)[0]["items"][0]["spec"]["template"];
  EXPECT_EQ(names(job["spec"]["containers"]), (std::vector<std::string>{"weft-proxy", "work"}));
  EXPECT_EQ(job["metadata"]["annotations"]["weft.io/proxy-exit"], "apps-done");
  const Json& pod = (*docs)[0]["items"][1];
  EXPECT_EQ(names(pod["spec"]["containers"]), (std::vector<std::string>{"a"}));
}

TEST_F(WeftctlInjectTest, BadAnnotationFailsWithoutOutput) {
  const char* pod = R"(apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    config.weft.io/proxy-cpu-limit: "a lot"
spec:
  containers: [{name: a, image: a}]
)";
  auto r = inject({"-f", "-"}, pod);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("config.weft.io/proxy-cpu-limit"));
  EXPECT_THAT(r.err, HasSubstr("Pod p"));
}

TEST_F(WeftctlInjectTest, UnreadableInputFails) {
  auto r = inject({"-f", dir_.file("missing.yaml")});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.err, HasSubstr("missing.yaml"));
  r = inject({"-f", "-"}, "key: [unclosed");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace weft
