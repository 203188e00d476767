using MaskLab.Data.Layout;
using MaskLab.Evaluation;

namespace MaskLab.Tests;

public sealed class SubmissionTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("masklab-submission-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WriteText(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Write_keeps_the_given_order_and_exact_format()
    {
        var path = Path.Combine(_dir, "submission.csv");
        Submission.Write(path, ["cbc5c6e1.jpg", "0a1b2c3d.jpg", "ffee0011.png"], [17, 0, 5]);
        var bytes = File.ReadAllBytes(path);
        Assert.False(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF, "no byte order mark");
        Assert.Equal("ImageID,ans\ncbc5c6e1.jpg,17\n0a1b2c3d.jpg,0\nffee0011.png,5\n", File.ReadAllText(path));
    }

    [Fact]
    public void Write_then_read_round_trips()
    {
        var path = Path.Combine(_dir, "round.csv");
        string[] ids = ["b.jpg", "a.jpg", "c.jpeg", "d.png"];
        int[] answers = [3, 0, 17, 9];
        Submission.Write(path, ids, answers);
        var (readIds, readAnswers) = Submission.ReadPredictions(path);
        Assert.Equal(ids, readIds);
        Assert.Equal(answers, readAnswers);
    }

    [Fact]
    public void Write_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        var path = WriteText("out.csv", "old content that is longer than the new one\n".PadRight(500, 'x'));
        Submission.Write(path, ["a.jpg"], [1]);
        Assert.Equal("ImageID,ans\na.jpg,1\n", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void Write_creates_the_folder()
    {
        var path = Path.Combine(_dir, "new", "deeper", "submission.csv");
        Submission.Write(path, ["a.jpg"], [2]);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Write_rejects_mismatched_or_out_of_range_answers()
    {
        var path = Path.Combine(_dir, "x.csv");
        Assert.Throws<ArgumentException>(() => Submission.Write(path, ["a", "b"], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Submission.Write(path, ["a"], [18]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Read_accepts_crlf_bom_extra_columns_and_any_column_order()
    {
        var path = WriteText("info.csv", "\uFEFFans,ImageID,note\r\n4,x.jpg,hi\r\n0,y.jpg,\r\n");
        var (ids, answers) = Submission.ReadPredictions(path);
        Assert.Equal(["x.jpg", "y.jpg"], ids);
        Assert.Equal([4, 0], answers);
    }

    [Theory]
    [InlineData("ImageID,answer\na.jpg,1\n", "no column 'ans'")]
    [InlineData("id,ans\na.jpg,1\n", "no column 'ImageID'")]
    [InlineData("ImageID,ans\na.jpg,1\nb.jpg,one\n", "line 3: ans 'one' is not a whole number")]
    [InlineData("ImageID,ans\na.jpg,1.5\n", "line 2: ans '1.5' is not a whole number")]
    [InlineData("ImageID,ans\na.jpg,18\n", "line 2: ans 18 is outside 0..17")]
    [InlineData("ImageID,ans\na.jpg,-1\n", "line 2: ans -1 is outside 0..17")]
    [InlineData("ImageID,ans\na.jpg,1\nb.jpg,2\na.jpg,3\n", "line 4: ImageID 'a.jpg' repeats line 2")]
    [InlineData("ImageID,ans\na.jpg\n", "line 2: 1 field(s)")]
    [InlineData("ImageID,ans\n,4\n", "line 2: empty ImageID")]
    [InlineData("ImageID,ans\na.jpg,1\n\"b.jpg,2\n", "line 3 is not valid CSV")]
    [InlineData("", "is empty")]
    public void Read_errors_name_the_file_and_the_problem(string text, string expected)
    {
        var path = WriteText("bad.csv", text);
        var e = Assert.Throws<MaskLabInputException>(() => Submission.ReadPredictions(path));
        Assert.Contains($"'{path}'", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Read_of_a_missing_file_or_a_folder_names_it()
    {
        var missing = Path.Combine(_dir, "nope.csv");
        var e = Assert.Throws<MaskLabInputException>(() => Submission.ReadPredictions(missing));
        Assert.Equal($"prediction file '{missing}' does not exist", e.Message);
        e = Assert.Throws<MaskLabInputException>(() => Submission.ReadPredictions(_dir));
        Assert.Contains("is a folder", e.Message);
    }

    [Fact]
    public void Header_only_file_reads_as_no_rows()
    {
        var (ids, answers) = Submission.ReadPredictions(WriteText("empty.csv", "ImageID,ans\n"));
        Assert.Empty(ids);
        Assert.Empty(answers);
    }
}
