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
        Assert.Contains("weight", Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":0,"weight":-2}""").Reason);
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
        var result = Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":5,"type":"click","weight":2.5,"extra":{"a":[1]}}""");
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("click", result.Event.Type);
        Assert.Equal(2.5, result.Event.Weight);

        var bare = Validate("u", """{"schemaVersion":1,"eventId":"e","userId":"u","itemId":"i","timestamp":5,"type":null}""");
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
}
