"""What each analytics request may carry: the body and query serializers the views parse."""

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from common.payloads import MAX_BIGINT, StrictCharField, StrictIntegerField, StrictSerializer
from insights import periods, selectors


class PageSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    offset = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)


class TopVideosQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
    by = serializers.ChoiceField(choices=list(selectors.TOP_ORDER), default="views")


class ReportSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=periods.PERIODS)

    def get_fields(self):
        # `from` is a Python keyword, so the seed-style query names are added here.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs):
        period = attrs["period"]
        end = attrs.get("to") or timezone.now().date()
        start = attrs.get("from") or periods.report_default_range(period=period, today=end)[0]
        if start > end:
            raise ValidationError({"from": ["must not be after 'to'"]})
        buckets = periods.report_buckets(period=period, start=start, end=end)
        if len(buckets) > periods.MAX_BUCKETS:
            raise ValidationError({"from": [f"at most {periods.MAX_BUCKETS} {period} buckets"]})
        return {"period": period, "start": start, "end": end}


class RecordViewSerializer(serializers.Serializer):
    # Not strict: the original's clients may send ids as strings. Within bigint, as stored.
    videoId = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    watchTime = serializers.IntegerField(min_value=0, max_value=24 * 3600)
    userId = serializers.IntegerField(required=False, max_value=MAX_BIGINT)


class VideoIdsSerializer(serializers.Serializer):
    ids = serializers.RegexField(
        r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,99}$",
        error_messages={"invalid": "a comma-separated list of 1 to 100 positive video ids"},
    )

    def validate_ids(self, value: str) -> list[int]:
        return list(dict.fromkeys(int(part) for part in value.split(",")))


class ReplaySerializer(StrictSerializer):
    fromTimestamp = serializers.DateTimeField(required=False, allow_null=True)


class ProfileCreateSerializer(StrictSerializer):
    sagaId = StrictCharField(max_length=64)
    userId = StrictIntegerField(min_value=1)
    email = serializers.EmailField(max_length=254)


class SagaIdSerializer(serializers.Serializer):
    sagaId = StrictCharField(max_length=64)
