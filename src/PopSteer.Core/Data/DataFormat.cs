namespace PopSteer.Core.Data;

/// <summary>Interaction file formats <see cref="InteractionReader"/> understands.</summary>
public enum DataFormat
{
    /// <summary>Chosen from the extension, then from the first line.</summary>
    Auto,
    /// <summary>MovieLens u.data (tab: user item rating timestamp) or ratings.dat (user::item::rating::timestamp).</summary>
    MovieLens,
    /// <summary>RecBole atomic .inter file with a typed header (user_id:token, item_id:token, timestamp:float...).</summary>
    RecBole,
    /// <summary>CSV or TSV with a header naming the user, item and (optional) timestamp and weight columns.</summary>
    Csv,
}
