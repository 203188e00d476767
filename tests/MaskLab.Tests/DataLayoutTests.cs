using MaskLab.Data.Layout;

namespace MaskLab.Tests;

public class DataLayoutTests
{
    static MaskLabInputException Fails(Action read) => Assert.Throws<MaskLabInputException>(read);

    static void OneLine(Exception e) => Assert.DoesNotContain('\n', e.Message);

    // ---- train layout -------------------------------------------------------------------------------------------

    [Fact]
    public void Train_reads_people_labels_and_groups()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["000002_male_Asian_60", "000001_female_Asian_45", "000003_female_White_29"]);

        var set = CompetitionLayout.ReadTrain(train);

        Assert.True(set.IsTaskClasses);
        Assert.Equal(TaskClasses.Names, set.ClassNames);
        Assert.Equal(Path.GetFullPath(train), set.Root);
        Assert.Equal(21, set.Samples.Count);
        Assert.Equal(["000001", "000002", "000003"], set.Samples.Select(s => s.Group).Distinct());

        var female45 = set.Samples.Where(s => s.Group == "000001").ToList();
        Assert.All(female45, s => Assert.Equal(new Person("000001", Gender.Female, "Asian", 45, "000001_female_Asian_45"), s.Person));
        Assert.Equal(7, female45.Count);
        var byStem = female45.ToDictionary(s => Path.GetFileNameWithoutExtension(s.Path));
        Assert.Equal(TaskClasses.Encode(MaskState.Wear, Gender.Female, AgeBand.From30To59), byStem["mask3"].Label);
        Assert.Equal(TaskClasses.Encode(MaskState.Incorrect, Gender.Female, AgeBand.From30To59), byStem["incorrect_mask"].Label);
        Assert.Equal(TaskClasses.Encode(MaskState.NotWear, Gender.Female, AgeBand.From30To59), byStem["normal"].Label);
        Assert.Equal(MaskState.Incorrect, byStem["incorrect_mask"].Mask);

        var male60 = set.Samples.First(s => s.Group == "000002" && s.Mask == MaskState.NotWear);
        Assert.Equal(TaskClasses.Encode(MaskState.NotWear, Gender.Male, AgeBand.Over60), male60.Label);
        // The scoring label uses 30 / 60; a training cut at 58 moves the 60-year-old nowhere, a 59-year-old up.
        Assert.Equal(male60.Label, male60.TrainingLabel(new AgeCuts(30, 58)));
        Assert.Equal(TaskClasses.Encode(MaskState.NotWear, Gender.Female, AgeBand.Under30),
            set.Samples.First(s => s.Group == "000003" && s.Mask == MaskState.NotWear).Label);
        Assert.All(set.Samples, s => Assert.True(File.Exists(s.Path)));
    }

    [Fact]
    public void Train_order_is_sorted_by_folder_then_photo_name()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(4).Reverse());
        var set = CompetitionLayout.ReadTrain(train);
        var keys = set.Samples.Select(s => $"{s.Person!.Folder}/{Path.GetFileName(s.Path)}").ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal(keys, CompetitionLayout.ReadTrain(train).Samples.Select(s => $"{s.Person!.Folder}/{Path.GetFileName(s.Path)}"));
    }

    [Fact]
    public void Train_ignores_hidden_files_and_folders_and_accepts_mixed_extension_case()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["000001_female_Asian_45"]);
        var person = Path.Combine(train, "images", "000001_female_Asian_45");
        Fixtures.WriteImage(Path.Combine(person, "._mask1.jpg"));
        Fixtures.WriteText(Path.Combine(person, ".DS_Store"), "junk");
        Fixtures.WriteImage(Path.Combine(train, "images", "._000001_female_Asian_45", "mask1.jpg"));
        Fixtures.WriteImage(Path.Combine(train, "images", ".cache", "x.jpg"));
        File.Move(Path.Combine(person, "normal.jpg"), Path.Combine(person, "normal.JPG"));

        var set = CompetitionLayout.ReadTrain(train);

        Assert.Equal(7, set.Samples.Count);
        Assert.DoesNotContain(set.Samples, s => Path.GetFileName(s.Path).StartsWith('.'));
        Assert.Contains(set.Samples, s => s.Path.EndsWith("normal.JPG") && s.Mask == MaskState.NotWear);
        Assert.Equal([".jpeg", ".jpg", ".png"], set.Samples.Select(s => Path.GetExtension(s.Path).ToLowerInvariant()).Distinct().Order());
    }

    [Fact]
    public void Train_csv_is_optional()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(3), csv: false);
        Assert.Equal(21, CompetitionLayout.ReadTrain(train).Samples.Count);
    }

    [Fact]
    public void Train_csv_with_missing_columns_names_file_and_columns()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(2));
        Fixtures.WriteTrainCsv(train, Fixtures.People(2), header: "id,gender,age");

        var e = Fails(() => CompetitionLayout.ReadTrain(train));

        Assert.Contains(Path.Combine(Path.GetFullPath(train), "train.csv"), e.Message);
        Assert.Contains("race, path", e.Message);
        OneLine(e);
    }

    [Fact]
    public void Train_csv_header_matches_ignoring_case_and_spaces()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(2));
        Fixtures.WriteTrainCsv(train, Fixtures.People(2), header: "ID, Gender ,race,AGE,path");
        Assert.Equal(14, CompetitionLayout.ReadTrain(train).Samples.Count);
    }

    [Fact]
    public void Train_csv_listing_a_missing_folder_is_an_error()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(2));
        Fixtures.WriteTrainCsv(train, [.. Fixtures.People(2), "000099_male_Asian_33"]);

        var e = Fails(() => CompetitionLayout.ReadTrain(train));

        Assert.Contains("train.csv", e.Message);
        Assert.Contains("000099_male_Asian_33", e.Message);
        OneLine(e);
    }

    [Theory]
    [InlineData("001_male_Asian", "no age")]
    [InlineData("001_male_Asian_abc", "age 'abc'")]
    [InlineData("001_other_Asian_30", "gender 'other'")]
    [InlineData("001_male_Asian_-3", "age -3")]
    [InlineData("001_male_Asian_250", "age 250")]
    [InlineData("001_male__30", "empty race")]
    [InlineData("_male_Asian_30", "empty id")]
    [InlineData("justaname", "expected <id>_<gender>_<race>_<age>")]
    public void Bad_folder_name_is_reported_by_name(string folder, string reason)
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["000001_female_Asian_45", folder], csv: false);

        var e = Fails(() => CompetitionLayout.ReadTrain(train));

        Assert.Contains(folder, e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Contains(Path.Combine(Path.GetFullPath(train), "images"), e.Message);
        Assert.DoesNotContain("000001_female_Asian_45", e.Message);
        OneLine(e);
    }

    [Fact]
    public void All_problems_are_collected_into_one_message()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"),
            ["001_male_Asian", "002_male_Asian_abc", "003_other_Asian_30", "000004_female_Asian_45"], csv: false);
        Fixtures.WriteImage(Path.Combine(train, "images", "000004_female_Asian_45", "selfie.jpg"));
        Fixtures.WriteImage(Path.Combine(train, "images", "000004_female_Asian_45", "mask1.gif"));
        Directory.CreateDirectory(Path.Combine(train, "images", "000005_male_Asian_20"));

        var e = Fails(() => CompetitionLayout.ReadTrain(train));

        Assert.StartsWith("6 problems under ", e.Message);
        // Folders are visited in ordinal order and the first five problems are named.
        foreach (var name in new[] { "000004_female_Asian_45/mask1.gif", "000004_female_Asian_45/selfie.jpg",
                     "000005_male_Asian_20 (no photos", "001_male_Asian (no age", "002_male_Asian_abc (age 'abc'" })
            Assert.Contains(name, e.Message);
        Assert.DoesNotContain("003_other_Asian_30", e.Message);
        Assert.EndsWith("and 1 more", e.Message);
        OneLine(e);
    }

    [Fact]
    public void Bad_folders_alone_are_called_bad_folders()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["001_male_Asian", "002_male_Asian_abc", "003_other_Asian_30"], csv: false);
        var e = Fails(() => CompetitionLayout.ReadTrain(train));
        Assert.StartsWith($"3 bad folders under {Path.Combine(Path.GetFullPath(train), "images")}: 001_male_Asian (no age", e.Message);
    }

    [Fact]
    public void Unknown_photo_name_is_reported_with_its_folder()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["000001_female_Asian_45"]);
        Fixtures.WriteImage(Path.Combine(train, "images", "000001_female_Asian_45", "mask6.jpg"));
        var e = Fails(() => CompetitionLayout.ReadTrain(train));
        Assert.Contains("1 bad file under", e.Message);
        Assert.Contains("000001_female_Asian_45/mask6.jpg (unknown photo name", e.Message);
    }

    [Fact]
    public void Two_photos_of_one_kind_are_an_error()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["000001_female_Asian_45"]);
        Fixtures.WriteImage(Path.Combine(train, "images", "000001_female_Asian_45", "mask1.png"));
        var e = Fails(() => CompetitionLayout.ReadTrain(train));
        Assert.Contains("mask1", e.Message);
        Assert.Contains("second", e.Message);
    }

    [Fact]
    public void Person_without_photos_is_an_error()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), ["000001_female_Asian_45"], csv: false);
        var empty = Path.Combine(train, "images", "000002_male_Asian_30");
        Directory.CreateDirectory(empty);
        Fixtures.WriteImage(Path.Combine(empty, "._mask1.jpg"));

        var e = Fails(() => CompetitionLayout.ReadTrain(train));

        Assert.Contains("000002_male_Asian_30 (no photos", e.Message);
    }

    [Fact]
    public void Empty_or_missing_images_folder_is_a_clear_error()
    {
        using var tmp = new TempDir();
        var train = tmp.Combine("train");
        Directory.CreateDirectory(train);
        var noImages = Fails(() => CompetitionLayout.ReadTrain(train));
        Assert.Contains("has no images/ folder", noImages.Message);
        Assert.Contains(train, noImages.Message);

        Directory.CreateDirectory(Path.Combine(train, "images"));
        Fixtures.WriteText(Path.Combine(train, "images", ".DS_Store"), "");
        var empty = Fails(() => CompetitionLayout.ReadTrain(train));
        Assert.Contains("holds no person folders", empty.Message);
        Assert.Contains(Path.Combine(train, "images"), empty.Message);

        var missing = Fails(() => CompetitionLayout.ReadTrain(tmp.Combine("nope")));
        Assert.Contains(tmp.Combine("nope"), missing.Message);
        Assert.Contains("does not exist", missing.Message);
    }

    [Theory]
    [InlineData("000001_female_Asian_45", "000001", Gender.Female, "Asian", 45)]
    [InlineData("006959_MALE_Asian_19", "006959", Gender.Male, "Asian", 19)]
    [InlineData("7_female_Native_American_60", "7", Gender.Female, "Native_American", 60)]
    public void Person_folder_names_parse(string name, string id, Gender gender, string race, int age)
    {
        Assert.True(CompetitionLayout.TryParsePersonFolder(name, out var p, out var why), why);
        Assert.Equal(new Person(id, gender, race, age, name), p);
    }

    // ---- eval layout --------------------------------------------------------------------------------------------

    [Fact]
    public void Eval_keeps_info_csv_order()
    {
        using var tmp = new TempDir();
        string[] ids = ["ffe.jpg", "0a1.png", "bbb.jpeg", "123.jpg"];
        var eval = Fixtures.WriteEval(tmp.Combine("eval"), ids);
        Fixtures.WriteImage(Path.Combine(eval, "images", "._ffe.jpg"));
        Fixtures.WriteImage(Path.Combine(eval, "images", "unlisted.jpg"));

        var images = CompetitionLayout.ReadEval(eval);

        Assert.Equal(ids, images.Select(i => i.ImageId));
        Assert.All(images, i => Assert.Equal(Path.Combine(Path.GetFullPath(eval), "images", i.ImageId), i.Path));
    }

    [Fact]
    public void Eval_reports_missing_images_with_count_and_names()
    {
        using var tmp = new TempDir();
        var ids = Enumerable.Range(0, 10).Select(i => $"img{i}.jpg").ToArray();
        var eval = Fixtures.WriteEval(tmp.Combine("eval"), ids, skipImages: ids[2..9]);

        var e = Fails(() => CompetitionLayout.ReadEval(eval));

        Assert.StartsWith("7 images listed in ", e.Message);
        Assert.Contains("info.csv", e.Message);
        Assert.Contains("img2.jpg, img3.jpg", e.Message);
        Assert.Contains("and 2 more", e.Message);
        OneLine(e);
    }

    [Fact]
    public void Eval_info_csv_without_image_id_names_the_file()
    {
        using var tmp = new TempDir();
        var eval = Fixtures.WriteEval(tmp.Combine("eval"), ["a.jpg"]);
        var info = Path.Combine(eval, "info.csv");
        File.WriteAllText(info, "id,ans\na.jpg,0\n");

        var e = Fails(() => CompetitionLayout.ReadEval(eval));

        Assert.Contains(Path.GetFullPath(info), e.Message);
        Assert.Contains("ImageID", e.Message);
        OneLine(e);
    }

    [Fact]
    public void Eval_rejects_ids_outside_images_and_repeats()
    {
        using var tmp = new TempDir();
        var eval = Fixtures.WriteEval(tmp.Combine("eval"), ["a.jpg"]);
        File.WriteAllText(Path.Combine(eval, "info.csv"), "ImageID,ans\n../train.csv,0\n");
        Assert.Contains("'../train.csv' is not a plain file name", Fails(() => CompetitionLayout.ReadEval(eval)).Message);

        File.WriteAllText(Path.Combine(eval, "info.csv"), "ImageID,ans\na.jpg,0\na.jpg,0\n");
        var e = Fails(() => CompetitionLayout.ReadEval(eval));
        Assert.Contains("line 3", e.Message);
        Assert.Contains("repeats line 2", e.Message);

        Assert.Contains("has no info.csv", Fails(() => CompetitionLayout.ReadEval(tmp.Path)).Message);
    }

    [Fact]
    public void Answers_are_read_and_validated()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("answers.csv");
        File.WriteAllText(path, "ImageID,ans\na.jpg,0\nb.jpg,17\nc.jpg, 5\n");
        var (ids, answers) = Submission.Read(path, "truth file");
        Assert.Equal(["a.jpg", "b.jpg", "c.jpg"], ids);
        Assert.Equal([0, 17, 5], answers);

        foreach (var bad in new[] { "18", "-1", "x", "", "2.5" })
        {
            File.WriteAllText(path, $"ImageID,ans\na.jpg,0\nb.jpg,{bad}\n");
            var e = Fails(() => Submission.Read(path, "truth file"));
            Assert.Contains(path, e.Message);
            Assert.Contains("line 3", e.Message);
            Assert.Contains(bad.Length == 0 ? "''" : bad, e.Message);
        }

        File.WriteAllText(path, "ImageID\na.jpg\n");
        var missing = Fails(() => Submission.Read(path, "truth file"));
        Assert.Contains(path, missing.Message);
        Assert.Contains("ans", missing.Message);

        Assert.Contains("does not exist", Fails(() => Submission.Read(tmp.Combine("none.csv"), "truth file")).Message);
    }

    // ---- image folder -------------------------------------------------------------------------------------------

    [Fact]
    public void Image_folder_reads_classes_in_ordinal_order()
    {
        using var tmp = new TempDir();
        var dir = Fixtures.WriteImageFolder(tmp.Path, ["dog", "Cat", "bird"], perClass: 2, ext: ".jpg");
        Fixtures.WriteImage(Path.Combine(dir, "dog", "deep", "x.webp"));
        Fixtures.WriteImage(Path.Combine(dir, "dog", "y.BMP"));
        Fixtures.WriteImage(Path.Combine(dir, "dog", "._z.jpg"));
        Fixtures.WriteText(Path.Combine(dir, "dog", "notes.txt"), "not an image");
        Fixtures.WriteImage(Path.Combine(dir, ".hidden", "a.jpg"));

        var set = ImageFolderLayout.Read(dir);

        Assert.False(set.IsTaskClasses);
        Assert.Equal(["Cat", "bird", "dog"], set.ClassNames);
        Assert.Equal(2 + 2 + 4, set.Samples.Count);
        Assert.Equal(4, set.Samples.Count(s => s.Label == 2));
        Assert.All(set.Samples, s => Assert.Equal(s.Path, s.Group));
        Assert.All(set.Samples, s => Assert.Null(s.Person));
        Assert.All(set.Samples, s => Assert.Equal(s.Label, s.Stratum));
    }

    [Fact]
    public void Image_folder_named_0_to_17_is_the_task()
    {
        using var tmp = new TempDir();
        var dir = Fixtures.WriteImageFolder(tmp.Path, Enumerable.Range(0, 18).Select(i => i.ToString()), perClass: 1);

        var set = ImageFolderLayout.Read(dir);

        Assert.True(set.IsTaskClasses);
        Assert.Equal(TaskClasses.Names, set.ClassNames);
        Assert.All(set.Samples, s => Assert.Equal(int.Parse(Path.GetFileName(Path.GetDirectoryName(s.Path)!)), s.Label));
        Assert.Equal(Enumerable.Range(0, 18), set.Samples.Select(s => s.Label).Order());
    }

    [Fact]
    public void Image_folder_with_other_numbers_is_generic()
    {
        using var tmp = new TempDir();
        var dir = Fixtures.WriteImageFolder(tmp.Path, Enumerable.Range(0, 17).Select(i => i.ToString()), perClass: 1);
        var set = ImageFolderLayout.Read(dir);
        Assert.False(set.IsTaskClasses);
        Assert.Equal("10", set.ClassNames[2]);
        Assert.Equal(2, set.Samples.Single(s => s.Path.Contains($"{Path.DirectorySeparatorChar}10{Path.DirectorySeparatorChar}")).Label);
    }

    [Fact]
    public void Image_folder_needs_two_classes_with_images()
    {
        using var tmp = new TempDir();
        var one = Fixtures.WriteImageFolder(tmp.Combine("one"), ["only"]);
        var e = Fails(() => ImageFolderLayout.Read(one));
        Assert.Contains("1 class folder", e.Message);
        Assert.Contains(one, e.Message);

        var empty = Fixtures.WriteImageFolder(tmp.Combine("empty"), ["a", "b"]);
        Directory.CreateDirectory(Path.Combine(empty, "c"));
        Fixtures.WriteText(Path.Combine(empty, "c", "readme.txt"), "");
        var noImages = Fails(() => ImageFolderLayout.Read(empty));
        Assert.Contains("1 class folder under", noImages.Message);
        Assert.Contains(": c", noImages.Message);
    }

    // ---- locator ------------------------------------------------------------------------------------------------

    [Fact]
    public void Locator_accepts_competition_root_with_train_and_eval()
    {
        using var tmp = new TempDir();
        Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(2));
        Fixtures.WriteEval(tmp.Combine("eval"), ["a.jpg"]);

        var at = DataLocator.Locate(tmp.Path);

        Assert.Equal(DataKind.Competition, at.Kind);
        Assert.Equal(tmp.Combine("train"), at.TrainDir);
        Assert.Equal(tmp.Combine("eval"), at.EvalDir);
        Assert.Null(at.ImageFolderDir);
        Assert.Equal(14, DataLocator.ReadLabeled(tmp.Path).Samples.Count);
    }

    [Fact]
    public void Locator_accepts_root_with_only_one_part()
    {
        using var tmp = new TempDir();
        Fixtures.WriteEval(tmp.Combine("a", "eval"), ["a.jpg"]);
        var evalOnly = DataLocator.Locate(tmp.Combine("a"));
        Assert.Equal((null, tmp.Combine("a", "eval")), (evalOnly.TrainDir, evalOnly.EvalDir));
        Assert.Contains("without labels", Fails(() => DataLocator.ReadLabeled(tmp.Combine("a"))).Message);

        Fixtures.WriteTrain(tmp.Combine("b", "train"), Fixtures.People(2), csv: false);
        var trainOnly = DataLocator.Locate(tmp.Combine("b"));
        Assert.Equal((tmp.Combine("b", "train"), null), (trainOnly.TrainDir, trainOnly.EvalDir));
    }

    [Fact]
    public void Locator_accepts_train_or_eval_itself()
    {
        using var tmp = new TempDir();
        var train = Fixtures.WriteTrain(tmp.Combine("train"), Fixtures.People(2), csv: false);
        var eval = Fixtures.WriteEval(tmp.Combine("eval"), ["a.jpg"]);

        Assert.Equal(new DataLocation(train, null, null), DataLocator.Locate(train));
        Assert.Equal(new DataLocation(null, eval, null), DataLocator.Locate(eval));
        Assert.Equal(new DataLocation(train, null, null), DataLocator.Locate(train + Path.DirectorySeparatorChar));
        Assert.True(DataLocator.ReadLabeled(train).IsTaskClasses);
    }

    [Fact]
    public void Locator_accepts_image_folder()
    {
        using var tmp = new TempDir();
        var dir = Fixtures.WriteImageFolder(tmp.Combine("folder"), ["images", "other"]);

        var at = DataLocator.Locate(dir);

        Assert.Equal(DataKind.ImageFolder, at.Kind);
        Assert.Equal(dir, at.ImageFolderDir);
        Assert.Equal(dir, at.LabeledDir);
        Assert.Equal(["images", "other"], DataLocator.ReadLabeled(dir).ClassNames);
    }

    [Fact]
    public void Locator_rejects_bad_paths_naming_them()
    {
        using var tmp = new TempDir();
        var missing = tmp.Combine("missing");
        var e1 = Fails(() => DataLocator.Locate(missing));
        Assert.Contains(missing, e1.Message);
        Assert.Contains("does not exist", e1.Message);
        Assert.Contains("expected the competition layout", e1.Message);

        var file = tmp.Combine("file.txt");
        File.WriteAllText(file, "x");
        var e2 = Fails(() => DataLocator.Locate(file));
        Assert.Contains(file, e2.Message);
        Assert.Contains("is a file", e2.Message);

        var empty = Directory.CreateDirectory(tmp.Combine("empty")).FullName;
        Fixtures.WriteText(Path.Combine(empty, ".DS_Store"), "");
        var e3 = Fails(() => DataLocator.Locate(empty));
        Assert.Contains(empty, e3.Message);
        Assert.Contains("is empty", e3.Message);

        var filesOnly = Directory.CreateDirectory(tmp.Combine("files")).FullName;
        Fixtures.WriteImage(Path.Combine(filesOnly, "a.jpg"));
        Assert.Contains("holds no folders", Fails(() => DataLocator.Locate(filesOnly)).Message);

        Assert.Contains("no data folder given", Fails(() => DataLocator.Locate("")).Message);
        OneLine(e1);
    }

    [Fact]
    public void Locator_rejects_broken_train_and_the_images_folder_itself()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.Combine("root", "train", "pictures"));
        var e = Fails(() => DataLocator.Locate(tmp.Combine("root")));
        Assert.Contains(tmp.Combine("root", "train"), e.Message);
        Assert.Contains("images/<id>_<gender>_<race>_<age>/", e.Message);

        var train = Fixtures.WriteTrain(tmp.Combine("t", "train"), Fixtures.People(3));
        var images = Fails(() => DataLocator.Locate(Path.Combine(train, "images")));
        Assert.Contains("person folders", images.Message);
        Assert.Contains(train, images.Message);
    }
}
