using System.Text;
using System.Text.Json;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Contracts;

public sealed class InteractionEventValidatorTests
{
    private static readonly InteractionEventValidator Validator = new();

    private static InteractionValidationResult Validate(string key, string json) =>
        Validator.Validate(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Corpus_covers_at_least_twenty_kinds_of_malformed_input()
    {
        var corpus = MalformedCorpus.Load();
        Assert.True(corpus.Count >= 20, $"only {corpus.Count} cases");
        Assert.True(corpus.Select(c => c.Expected).Distinct().Count() >= 15);
        Assert.Equal(corpus.Count, corpus.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(MalformedCorpus.Names), MemberType = typeof(MalformedCorpus))]
    public void Every_corpus_case_is_rejected_with_its_reason(string name)
    {
        var c = MalformedCorpus.Load().Single(x => x.Name == name);
        var result = Validator.Validate(c.Key, c.Payload);
        Assert.False(result.IsValid, $"{name} was accepted");
        Assert.Equal(c.Expected, result.Code);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }

    [Fact]
    public void Reasons_name_the_field()
    {
        Assert.Contains("userId", Validate("u", """{"schemaVersion":1,"eventId":"e","userId":7,"itemId":"i","timestamp":0}""").Reason);
        Assert.Contains("timestamp", Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i"}""").Reason);
        Assert.Contains("weight", Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":1714564800000,"weight":-2}""").Reason);
    }

    [Theory]
    [InlineData("\"2024-05-01T12:00:00Z\"")]
    [InlineData("\"2024-05-01T14:00:00+02:00\"")]
    [InlineData("\"2024-05-01T12:00:00.000Z\"")]
    [InlineData("1714564800000")]
    public void Iso_and_epoch_millisecond_timestamps_mean_the_same_instant(string timestamp)
    {
        var result = Validate("u", $$"""{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":{{timestamp}}}""");
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero), result.Event.Timestamp);
    }

    [Fact]
    public void Optional_fields_are_read_and_unknown_fields_ignored()
    {
        var result = Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":1714564800005,"type":"click","weight":2.5,"extra":{"a":[1]}}""");
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("click", result.Event.Type);
        Assert.Equal(2.5, result.Event.Weight);

        var bare = Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":1714564800005,"type":null}""");
        Assert.True(bare.IsValid, bare.Reason);
        Assert.Null(bare.Event.Type);
        Assert.Null(bare.Event.Weight);
    }

    [Fact]
    public void Serialized_events_round_trip_through_the_validator()
    {
        foreach (var e in TestEvents.Generate(users: 5, items: 20, count: 50, seed: 1))
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(e, StreamingJsonContext.Default.InteractionEvent);
            var result = Validator.Validate(Encoding.UTF8.GetBytes(e.UserId), bytes);
            Assert.True(result.IsValid, result.Reason);
            Assert.Equal(e, result.Event);
            Assert.Equal(e, JsonSerializer.Deserialize(bytes, StreamingJsonContext.Default.InteractionEvent));
        }
    }

    [Fact]
    public void Json_uses_the_contract_field_names()
    {
        var json = JsonSerializer.Serialize(TestEvents.Generate(1, 1, 1, seed: 2)[0], StreamingJsonContext.Default.InteractionEvent);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(["schemaVersion", "eventId", "userId", "itemId", "timestamp", "type", "weight"],
            document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("timestamp").ValueKind);
    }

    private static readonly DateTimeOffset Now = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static InteractionValidationResult At(DateTimeOffset t, EventTimeWindow? window = null, bool epochMs = false) =>
        new InteractionEventValidator(window: window, clock: new FixedClock(Now)).Validate(Encoding.UTF8.GetBytes("u"), Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":{{(epochMs ? t.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) : $"\"{t:yyyy-MM-ddTHH:mm:ss.fffZ}\"")}}}"""));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Event_time_is_bounded_ahead_of_now_by_the_clock_skew(bool epochMs)
    {
        Assert.True(At(Now.AddMinutes(4), epochMs: epochMs).IsValid);
        var ahead = At(Now.AddMinutes(6), epochMs: epochMs);
        Assert.False(ahead.IsValid);
        Assert.Equal(InvalidEventReason.TimestampOutOfRange, ahead.Code);
        Assert.Contains("Ingest:MaxClockSkew", ahead.Reason, StringComparison.Ordinal);

        var far = At(new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero), epochMs: epochMs);
        Assert.Equal(InvalidEventReason.TimestampOutOfRange, far.Code);
        Assert.Contains("ahead of now", far.Reason, StringComparison.Ordinal);

        Assert.True(At(Now.AddMinutes(30), new EventTimeWindow { MaxFutureSkew = TimeSpan.FromHours(1) }, epochMs).IsValid);
    }

    [Fact]
    public void Historical_logs_replay_by_default_but_a_max_age_bounds_the_past()
    {
        var movieLens1997 = new DateTimeOffset(1997, 9, 20, 0, 0, 0, TimeSpan.Zero);
        Assert.True(At(movieLens1997).IsValid, At(movieLens1997).Reason);
        // Seconds sent as milliseconds land in January 1970: below the floor.
        var seconds = Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":1714564800}""");
        Assert.Equal(InvalidEventReason.TimestampOutOfRange, seconds.Code);

        var live = new EventTimeWindow { MaxAge = TimeSpan.FromDays(1) };
        Assert.True(At(Now.AddHours(-23), live).IsValid);
        var old = At(Now.AddDays(-3), live);
        Assert.Equal(InvalidEventReason.TimestampOutOfRange, old.Code);
        Assert.Contains("Ingest:MaxEventAge", old.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("itemId", "\\ud800x")]
    [InlineData("itemId", "\\udfff")]
    [InlineData("eventId", "a\\ud83d")]
    [InlineData("userId", "\\ud83d\\ud83d")]
    public void Escaped_lone_surrogates_are_refused_not_thrown(string field, string escaped)
    {
        var values = new Dictionary<string, string> { ["eventId"] = "e", ["userId"] = "u", ["itemId"] = "i" };
        values[field] = escaped;
        var json = $$"""{"schemaVersion":1,"eventId":"{{values["eventId"]}}","userId":"{{values["userId"]}}","itemId":"{{values["itemId"]}}","timestamp":1714564800000}""";
        var result = Validate("u", json);
        Assert.False(result.IsValid);
        Assert.Equal(InvalidEventReason.InvalidUnicode, result.Code);
        Assert.Contains(field, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_surrogate_pair_is_accepted()
    {
        var result = Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"\ud83d\ude00","timestamp":1714564800000}""");
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("\U0001F600", result.Event.ItemId);
    }

    [Fact]
    public void No_input_makes_the_validator_throw()
    {
        // Random bytes and random mutations of a valid event: every one is a verdict, never an exception.
        var random = new Random(42);
        var valid = Encoding.UTF8.GetBytes("""{"schemaVersion":1,"eventId":"e\u00e9","userId":"u","itemId":"i\ud83d\ude00","timestamp":"2024-05-01T12:00:00Z","type":"t","weight":1}""");
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])valid.Clone();
            for (var m = random.Next(1, 4); m > 0; m--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var result = Validator.Validate(random.Next(4) == 0 ? null : Encoding.UTF8.GetBytes("u"), bytes);
            Assert.True(result.IsValid || !string.IsNullOrEmpty(result.Reason));
        }
    }
}
