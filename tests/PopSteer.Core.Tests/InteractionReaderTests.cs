using PopSteer.Core.Data;

namespace PopSteer.Core.Tests;

public sealed class InteractionReaderTests : IDisposable
{
    private readonly TempDirectory _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string Write(string name, string content)
    {
        var path = _tmp.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void MovieLens_u_data_is_tab_separated_user_item_rating_time()
    {
        var path = Write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n");
        var rows = InteractionReader.Read(path);
        Assert.Equal([new Interaction("196", "242", 881250949, 3f), new Interaction("186", "302", 891717742, 3f)], rows);
    }

    [Fact]
    public void MovieLens_ratings_dat_uses_double_colons()
    {
        var path = Write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n");
        var rows = InteractionReader.Read(path);
        Assert.Equal(2, rows.Count);
        Assert.Equal(new Interaction("1", "661", 978302109, 3f), rows[1]);
    }

    [Fact]
    public void RecBole_inter_finds_columns_by_name_in_any_order()
    {
        var path = Write("ml.inter", "timestamp:float\titem_id:token\trating:float\tuser_id:token\n978300760.0\t1193\t5\t1\n978302109\tx9\t3.5\tu2\n");
        var rows = InteractionReader.Read(path);
        Assert.Equal([new Interaction("1", "1193", 978300760, 5f), new Interaction("u2", "x9", 978302109, 3.5f)], rows);
    }

    [Fact]
    public void Csv_accepts_common_column_names_quotes_and_iso_dates()
    {
        var path = Write("events.csv", "userId,movieId,rating,timestamp\n7,\"The, Movie\",4.5,2024-01-02T03:04:05Z\n8,12,1,1700000000\n");
        var rows = InteractionReader.Read(path);
        Assert.Equal(new Interaction("7", "The, Movie", new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).ToUnixTimeSeconds(), 4.5f), rows[0]);
        Assert.Equal(new Interaction("8", "12", 1700000000, 1f), rows[1]);
    }

    [Fact]
    public void Tsv_without_a_time_column_keeps_file_order()
    {
        var path = Write("plays.tsv", "user\titem\n a \tb\na\tc\n");
        var rows = InteractionReader.Read(path);
        Assert.Equal(["b", "c"], rows.Select(r => r.ItemId));
        Assert.True(rows[0].Timestamp < rows[1].Timestamp);
        Assert.Equal("a", rows[0].UserId);
    }

    [Fact]
    public void Auto_detection_reads_content_when_the_extension_says_nothing()
    {
        Assert.Equal(DataFormat.MovieLens, InteractionReader.Detect(Write("a.txt", "1\t2\t3\t4\n")));
        Assert.Equal(DataFormat.MovieLens, InteractionReader.Detect(Write("b.txt", "1::2::3::4\n")));
        Assert.Equal(DataFormat.RecBole, InteractionReader.Detect(Write("c.txt", "user_id:token\titem_id:token\n")));
        Assert.Equal(DataFormat.Csv, InteractionReader.Detect(Write("d.txt", "user_id,item_id,timestamp\n")));
        var ex = Assert.Throws<DataFormatException>(() => InteractionReader.Detect(Write("e.txt", "hello world\n")));
        Assert.Contains("e.txt", ex.Message);
    }

    [Theory]
    [InlineData("u.data", "1\t2\t3\t4\n1\t2\t3\n", 2, "expected 4 fields")]
    [InlineData("u.data", "1\t2\t3\t4\n1\t2\tx\t4\n", 2, "rating/weight 'x'")]
    [InlineData("ratings.dat", "1::2::3::4\n\n1::2::3::soon\n", 3, "timestamp 'soon'")]
    [InlineData("x.inter", "user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n1\t2\n", 3, "expected 3")]
    [InlineData("x.inter", "user_id\titem_id\n1\t2\n", 1, "name:type")]
    [InlineData("x.csv", "user_id,item_id,timestamp\n1,2,3\n1,,4\n", 3, "empty item id")]
    [InlineData("x.csv", "user,thing\n1,2\n", 1, "no item column")]
    [InlineData("x.csv", "user_id,item_id\n1,2,3\n", 2, "expected 2 fields")]
    public void Malformed_rows_name_the_file_and_line(string name, string content, int line, string fragment)
    {
        var path = Write(name, content);
        var ex = Assert.Throws<DataFormatException>(() => InteractionReader.Read(path));
        Assert.Equal(line, ex.Line);
        Assert.Equal(path, ex.FilePath);
        Assert.Contains($"{path}:{line}:", ex.Message);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = _tmp.File("nope.csv");
        var ex = Assert.Throws<FileNotFoundException>(() => InteractionReader.Read(path));
        Assert.Contains("nope.csv", ex.Message);
    }

    [Fact]
    public void The_csv_writer_round_trips_through_the_reader()
    {
        var rows = new[] { new Interaction("u1", "i,1", 5), new Interaction("u2", "i\"2", 6), new Interaction("u1", "i3", 7) };
        var path = _tmp.File("out/gen.csv");
        InteractionCsvWriter.Write(path, rows);
        Assert.StartsWith("user_id,item_id,timestamp\n", File.ReadAllText(path));
        Assert.Equal(rows, InteractionReader.Read(path));
    }
}
