namespace PopSteer.Streaming.Configuration;

/// <summary>Section "Kafka:Topics": the topic names, defaulting to <see cref="Streaming.Topics"/>.</summary>
public sealed class KafkaTopicOptions
{
    public string Interactions { get; set; } = Streaming.Topics.Interactions;
    public string UsersChanged { get; set; } = Streaming.Topics.UsersChanged;
    public string Recommendations { get; set; } = Streaming.Topics.Recommendations;
    public string DeadLetter { get; set; } = Streaming.Topics.DeadLetter;
    public string Models { get; set; } = Streaming.Topics.Models;

    internal IEnumerable<(string Key, string Value)> All()
    {
        yield return ("Kafka:Topics:Interactions", Interactions);
        yield return ("Kafka:Topics:UsersChanged", UsersChanged);
        yield return ("Kafka:Topics:Recommendations", Recommendations);
        yield return ("Kafka:Topics:DeadLetter", DeadLetter);
        yield return ("Kafka:Topics:Models", Models);
    }
}
