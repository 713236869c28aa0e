using PopSteer.Streaming.Configuration;

namespace PopSteer.Cli;

/// <summary>
/// Which of the services' consumer groups read which topic: the interactions by Ingest and the Retrainer, the
/// users-changed signals by the Scorer. What the embedded broker may trim behind, in the demo and in `popsteer broker`
/// (the recommendations are read by feeds, which only the caller knows).
/// </summary>
internal static class ServiceConsumerGroups
{
    public static IReadOnlyList<(string Topic, IReadOnlyList<string> Groups)> Of(KafkaTopicOptions topics, string ingest, string retrainer, string scorer) =>
    [
        (topics.Interactions, [ingest, retrainer]),
        (topics.UsersChanged, [scorer]),
    ];
}
