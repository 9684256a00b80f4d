//! The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the API's bodies: the request types
//! (`FlowSpec`, `ConnectionInput`, …) and the answers `views.rs` and `api/*.rs` build. Objects
//! stay open (`additionalProperties` allowed) so that adding a field is not a breaking change;
//! what a client relies on is listed under `required`.

use serde_json::{json, Value};

/// Every schema under `components.schemas`, by name.
pub fn components() -> Value {
    let time = json!({"type": ["string", "null"], "format": "date-time",
        "description": "RFC 3339 in Japan time; null when not (yet) known"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    // 1–100 characters once invisible characters and surrounding spaces are dropped.
    let text100 = json!({"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"});
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "stable, e.g. invalid_input, not_found, already_running"},
                    "message": {"type": "string"},
                    "field": {"type": "string", "description": "the input field at fault, e.g. settings.app"}
                }
            }}
        },
        "Created": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        "RunQueued": {"type": "object", "required": ["run_id"], "properties": {"run_id": {"type": "string"}}},
        "Connector": {
            "type": "object",
            "required": ["id", "version", "name", "auth"],
            "properties": {
                "id": {"type": "string"},
                "version": {"type": "string"},
                "sdk_version": {"type": ["string", "integer"]},
                "name": {},
                "description": {},
                "auth": {"type": "string"},
                "settings": {},
                "credentials": {},
                "registration_number_pattern": {"type": ["string", "null"]},
                "limits": {},
                "actions": {}
            }
        },
        "ConnectionInput": {
            "type": "object",
            "required": ["connector", "name", "registration_number", "phone"],
            "properties": {
                "connector": {"type": "string", "description": "a loaded connector's id (GET /api/connectors)"},
                "name": {"type": "string", "minLength": 1},
                "registration_number": {"type": "string", "maxLength": 32,
                    "description": "the connector's registration_number_pattern, else 4–32 letters, digits and hyphens"},
                "phone": {"type": "string", "maxLength": 20,
                    "description": "a Japanese number: 10 or 11 digits starting with 0, or +81"},
                "settings": {"type": "object"},
                "credentials": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
        "ConnectionUpdate": {
            "type": "object",
            "properties": {
                "name": {"type": ["string", "null"]},
                "registration_number": {"type": ["string", "null"]},
                "phone": {"type": ["string", "null"]},
                "settings": {"type": ["object", "null"]},
                "credentials": {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
            }
        },
        "TokenStatus": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string"},
                "expires_at": time,
                "refreshed_at": time
            }
        },
        "Connection": {
            "type": "object",
            "required": ["id", "connector", "name", "status", "token", "credentials_set"],
            "properties": {
                "id": {"type": "string"},
                "connector": {"type": "string"},
                "name": {"type": "string"},
                "registration_number": {"type": "string"},
                "phone": {"type": "string"},
                "settings": {"type": "object"},
                "credentials_set": strings,
                "status": {"$ref": "#/components/schemas/ConnectionStatus"},
                "status_message": {"type": ["string", "null"]},
                "status_detail": {
                    "type": "object",
                    "properties": {
                        "state": {"$ref": "#/components/schemas/ConnectionStatus"},
                        "checked_at": time,
                        "message": {"type": ["string", "null"]}
                    }
                },
                "token": {"$ref": "#/components/schemas/TokenStatus"},
                "created_at": time,
                "updated_at": time
            }
        },
        "ConnectionStatus": {"type": "string", "enum": ["ok", "unchecked", "reauthorize", "error"]},
        "CheckResult": {
            "type": "object",
            "required": ["ok"],
            "properties": {
                "ok": {"type": "boolean"},
                "account": {},
                "error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "kind": {}, "message": {"type": "string"},
                    "message_ja": {"type": ["string", "null"]}
                }}
            }
        },
        "ObjectSchema": {"type": "object", "description": "an object of the connector with its fields"},
        "UserMap": {
            "type": "object",
            "required": ["pairs"],
            "properties": {"pairs": {"type": "array", "items": {
                "type": "object",
                "required": ["from", "to"],
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}}
            }}}
        },
        "AuthorizeInput": {
            "type": "object",
            "properties": {"redirect_uri": {"type": ["string", "null"], "description": "default: this hub's /oauth/callback"}}
        },
        "AuthorizeAnswer": {
            "type": "object",
            "required": ["authorize_url", "redirect_uri"],
            "properties": {"authorize_url": {"type": "string"}, "redirect_uri": {"type": "string"}}
        },
        "OAuthComplete": {
            "type": "object",
            "required": ["state", "code"],
            "properties": {"state": {"type": "string"}, "code": {"type": "string"}}
        },
        "OAuthCompleted": {
            "type": "object",
            "required": ["connection", "token"],
            "properties": {"connection": {"type": "string"}, "token": {"$ref": "#/components/schemas/TokenStatus"}}
        },
        "ActionInput": {"type": "object", "description": "the action's input as its manifest declares it"},
        "ActionResult": {"type": "object", "required": ["result"], "properties": {"result": {}}},
        "Endpoint": {
            "type": "object",
            "required": ["connection", "object"],
            "properties": {"connection": {"type": "string"}, "object": {"type": "string"}}
        },
        "FlowSpec": {
            "type": "object",
            "required": ["name", "source", "target"],
            "properties": {
                "name": {"type": "string"},
                "source": {"$ref": "#/components/schemas/Endpoint"},
                "target": {"$ref": "#/components/schemas/Endpoint"},
                "direction": {"type": "string", "enum": ["one_way", "two_way"]},
                "conflict": {"type": "string", "enum": ["source_wins", "target_wins", "newest_wins", "field_merge"]},
                "mapping": {"type": "array", "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "transform": {}}
                }},
                "match_keys": {"type": "array", "items": {
                    "type": "object",
                    "required": ["source", "target"],
                    "properties": {
                        "source": {"type": "string"},
                        "target": {"type": "string"},
                        "normalize": {"type": "string", "enum": ["none", "nfkc", "company_name", "phone"]}
                    }
                }},
                "filters": {"type": "object", "properties": {
                    "skip_private": {"type": "boolean"},
                    "modified_within_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 4294967295_u64},
                    "source_options": {"type": "object", "additionalProperties": {"type": "string"}},
                    "target_options": {"type": "object", "additionalProperties": {"type": "string"}}
                }},
                "options": {"type": "object", "properties": {
                    "create_missing": {"type": "boolean"},
                    "blank_key_parts": {"type": "string", "enum": ["use_other", "skip"]},
                    "propagate_deletes": {"type": "boolean"},
                    "register_missing_parent": {"type": "boolean"},
                    "initial_max_records": {"type": ["integer", "null"], "minimum": 0},
                    "max_retries": {"type": "integer", "minimum": 0, "maximum": 4294967295_u64},
                    "retry_delay_secs": {"type": "integer", "minimum": 0}
                }},
                "schedule": {"type": ["object", "null"], "required": ["cron"], "properties": {
                    "cron": {"type": "string"},
                    "timezone": {"type": "string", "description": "IANA name; default Asia/Tokyo"},
                    "skip_weekends": {"type": "boolean"},
                    "skip_holidays": {"type": "boolean"},
                    "missed": {"type": "string", "enum": ["run_once", "skip"]}
                }},
                "notify": {"type": ["object", "null"], "properties": {
                    "on": {"type": "string", "enum": ["failure", "always"]},
                    "email": strings,
                    "webhook": {"type": ["object", "null"], "properties": {
                        "format": {"type": "string", "enum": ["slack", "teams", "chatwork", "generic"]},
                        "url": {"type": "string"},
                        "token": {"type": ["string", "null"]}
                    }}
                }},
                "enabled": {"type": "boolean"}
            }
        },
        "Flow": {
            "description": "the flow's FlowSpec with its id, times and counts",
            "allOf": [
                {"$ref": "#/components/schemas/FlowSpec"},
                {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "string"},
                    "next_run_at": time,
                    "created_at": time,
                    "updated_at": time,
                    "next_runs": strings,
                    "pending_failures": {"type": "integer", "minimum": 0}
                }}
            ]
        },
        "FlowCreated": {
            "type": "object",
            "required": ["id", "next_runs"],
            "properties": {"id": {"type": "string"}, "next_runs": strings}
        },
        "RecordError": {
            "type": "object",
            "required": ["record", "side", "code", "message"],
            "properties": {
                "record": {"type": "string"},
                "side": {"type": "string"},
                "code": {"type": "string"},
                "message": {"type": "string", "description": "Japanese / English"},
                "title": {"type": ["string", "null"], "description": "the record's title field's value as read (会社名, Account_Name)"},
                "url": {"type": ["string", "null"], "description": "the record's page in its own system, when the connector gives one"},
                "field": {"type": ["string", "null"], "description": "the field the refusal names"},
                "value": {"type": ["string", "null"], "description": "the value sent for that field"}
            }
        },
        "RunCounts": {
            "type": "object",
            "properties": {
                "read": {"type": "integer"}, "created": {"type": "integer"},
                "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
                "skipped": {"type": "integer"}, "failed": {"type": "integer"},
                "warnings": {"type": "integer"}
            }
        },
        "Preview": {
            "type": "object",
            "required": ["ok", "counts", "changes", "conflicts", "ambiguous", "errors"],
            "properties": {
                "ok": {"type": "boolean"},
                "message": {"type": ["string", "null"]},
                "counts": {"$ref": "#/components/schemas/RunCounts"},
                "changes": {"type": "array", "items": {"type": "object", "properties": {
                    "record": {"type": "string"}, "title": {"type": ["string", "null"]},
                    "side": {"type": "string"}, "action": {"type": "string"},
                    "target_id": {"type": ["string", "null"]},
                    "fields": {"type": "array", "description": "what the write changes, before → after", "items": {
                        "type": "object", "properties": {"field": {"type": "string"},
                            "before": {"type": ["string", "null"]}, "after": {"type": ["string", "null"]}}}}
                }}},
                "conflicts": {"type": "array"},
                "ambiguous": {"type": "array"},
                "errors": {"type": "array"}
            }
        },
        "FullImportEstimate": {
            "type": "object",
            "properties": {
                "records": {"type": ["integer", "null"], "minimum": 0, "description": "null when the connector cannot count"},
                "requests": {"type": ["integer", "null"], "minimum": 0}
            }
        },
        "PendingRecords": {
            "type": "object",
            "required": ["flow", "records"],
            "properties": {
                "flow": {"type": "string"},
                "records": {"type": "array", "items": {
                    "type": "object",
                    "required": ["record", "side", "code", "message"],
                    "properties": {
                        "record": {"type": "string"}, "side": {"type": "string"},
                        "code": {"type": "string"}, "message": {"type": "string"},
                        "title": {"type": ["string", "null"]},
                        "since": time, "first_run": {"type": ["string", "null"]},
                        "last_run": {"type": ["string", "null"]}
                    }
                }}
            }
        },
        "DismissInput": {
            "type": "object",
            "properties": {"records": {"type": ["array", "null"], "items": {"type": "string"},
                "description": "the records to dismiss; all of the flow's when absent"}}
        },
        "Dismissed": {
            "type": "object",
            "required": ["dismissed"],
            "properties": {"dismissed": {"type": "integer", "minimum": 0}}
        },
        "Run": {
            "type": "object",
            "required": ["id", "flow", "trigger", "status", "counts"],
            "properties": {
                "id": {"type": "string"},
                "flow": {"type": "string"},
                "trigger": {"type": "string", "enum": ["manual", "schedule", "retry", "api"]},
                "status": {"$ref": "#/components/schemas/RunStatus"},
                "queued_at": time,
                "started_at": time,
                "finished_at": time,
                "scheduled_for": time,
                "attempt": {"type": "integer"},
                "counts": {"$ref": "#/components/schemas/RunCounts"},
                "message": {"type": ["string", "null"]}
            }
        },
        "RunStatus": {"type": "string", "enum": ["queued", "running", "success", "partial", "failed", "interrupted", "skipped"]},
        "RunDetail": {
            "allOf": [
                {"$ref": "#/components/schemas/Run"},
                {"type": "object", "required": ["errors", "warnings", "undone_by", "retried_by"], "properties": {
                    "errors": {"type": "array", "items": {"$ref": "#/components/schemas/RecordError"}},
                    "warnings": {"type": "array", "items": {"type": "object", "properties": {
                        "record": {"type": "string"}, "side": {"type": "string"}, "code": {"type": "string"},
                        "params": {"type": "object", "additionalProperties": {"type": "string"}},
                        "message": {"type": "string"},
                        "title": {"type": ["string", "null"]}
                    }}},
                    "undo_of": {"type": "string"},
                    "retry_of": {"type": "string"},
                    "undone_by": strings,
                    "retried_by": strings
                }}
            ]
        },
        "UndoResult": {
            "type": "object",
            "required": ["run_id", "status", "restored", "left_alone"],
            "properties": {
                "run_id": {"type": "string"},
                "status": {"$ref": "#/components/schemas/RunStatus"},
                "restored": {"type": "integer", "minimum": 0},
                "left_alone": {"type": "array", "items": {"type": "object", "properties": {
                    "record": {"type": "string"}, "side": {"type": "string"},
                    "reason": {"type": "string"}, "message": {"type": "string"}
                }}}
            }
        },
        "NewInquiry": {
            "type": "object",
            "required": ["company", "name", "email", "registration_number", "connector_name"],
            "properties": {
                "company": text100,
                "name": text100,
                "email": {"type": "string", "format": "email", "maxLength": 100},
                "registration_number": text100,
                "connector_name": text100
            }
        },
        "Inquiry": {
            "allOf": [
                {"$ref": "#/components/schemas/NewInquiry"},
                {"type": "object", "required": ["id", "delivery_status", "delivery_attempts"], "properties": {
                    "id": {"type": "string"},
                    "created_at": time,
                    "delivery_status": {"type": "string", "enum": ["pending", "sent", "failed"]},
                    "delivery_attempts": {"type": "integer", "minimum": 0},
                    "delivery_error": {"type": ["string", "null"]},
                    "delivered_at": time,
                    "next_attempt_at": time
                }}
            ]
        }
    })
}
