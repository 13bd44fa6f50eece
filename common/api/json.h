// JSON conversion of the api documents: parsing with errors that name the document and the
// JSON pointer of the problem, validation of every field, and serialization back. Include only
// where JSON is handled (nlohmann is heavy).
#pragma once

#include <string>

#include "common/api/documents.h"
#include "common/api/identity.h"
#include "common/json/json.h"
#include "common/result.h"

namespace weft::api {

struct ParseOptions {
  // Unknown members are errors (catches typos in hand-written files). The discovery client
  // turns this off so that an older proxy accepts documents from a newer operator.
  bool rejectUnknownFields = true;
};

// Errors are kInvalidArgument, worded like
//   "Outbound backend.demo:8080: /policy/retries/attempts: expected an integer >= 1".
// `kind` may be absent here; when present it must match.
Result<Outbound> outboundFromJson(const json::Json& doc, const ParseOptions& options = {});
Result<Inbound> inboundFromJson(const json::Json& doc, const ParseOptions& options = {});

// Dispatches on `kind` (Outbound | Inbound), which is required.
Result<Document> documentFromJson(const json::Json& doc, const ParseOptions& options = {});

// Every field written, defaults included, so the output documents itself; parsing it back
// gives an equal struct.
json::Json toJson(const Outbound& doc);
json::Json toJson(const Inbound& doc);
json::Json toJson(const Document& doc);

Result<CertifyRequest> certifyRequestFromJson(const json::Json& doc);
Result<CertifyResponse> certifyResponseFromJson(const json::Json& doc);
json::Json toJson(const CertifyRequest& doc);
json::Json toJson(const CertifyResponse& doc);

}  // namespace weft::api
