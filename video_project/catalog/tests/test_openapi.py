"""The published schema names every catalog route, the bodies the views parse and the
credentials."""

from common.testing.openapi import ERROR, body, operations, published_schema


def test_every_route_is_described_anonymously():
    schema = published_schema()

    assert operations(schema) == {
        "/api/videos": {"get", "post"},
        "/api/videos/{video_id}": {"get", "put", "patch", "delete"},
        "/api/videos/{video_id}/thumbnail": {"get"},
    }


def test_the_upload_is_multipart_with_the_file_as_bytes():
    schema = published_schema()
    upload = schema["paths"]["/api/videos"]["post"]

    assert set(upload["requestBody"]["content"]) == {"multipart/form-data"}
    assert body(upload, "multipart/form-data") == "#/components/schemas/VideoUpload"
    fields = schema["components"]["schemas"]["VideoUpload"]["properties"]
    assert fields["videoFile"] == {"type": "string", "format": "binary"}
    assert set(upload["responses"]) == {"201", "400", "401", "403", "413", "415"}


def test_edits_take_the_fields_serializer_with_every_field_optional():
    schema = published_schema()
    detail = schema["paths"]["/api/videos/{video_id}"]

    assert body(detail["put"]) == "#/components/schemas/PatchedVideoFields"
    assert body(detail["patch"]) == "#/components/schemas/PatchedVideoFields"
    assert "required" not in schema["components"]["schemas"]["PatchedVideoFields"]
    assert detail["delete"]["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": ERROR
    }


def test_list_filters_thumbnail_bytes_and_the_bearer_scheme():
    schema = published_schema()
    listing = schema["paths"]["/api/videos"]["get"]
    thumbnail = schema["paths"]["/api/videos/{video_id}/thumbnail"]["get"]

    assert {p["name"] for p in listing["parameters"]} == {
        "page",
        "limit",
        "category",
        "search",
        "uploadedBy",
    }
    assert listing["security"] == [{"userToken": []}, {}]
    assert set(thumbnail["responses"]["200"]["content"]) == {"image/jpeg"}
    assert schema["components"]["securitySchemes"]["userToken"]["scheme"] == "bearer"
