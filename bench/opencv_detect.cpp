// opencv_detect.cpp - the peer for bench/run.sh: OpenCV 4's own
// CascadeClassifier::detectMultiScale on the shared annotated photos, with
// the same cascade and parameters as `moodsync eval-faces`, scored with the
// same rule (greedy one-to-one matching at IoU >= 0.4, best IoU first -
// restated here from src/vision/score.c), and timed on one thread. Built
// only by bench/run.sh against Debian's libopencv-dev; never part of
// moodsync.
//
//   opencv_detect [--data DIR] [--cascade F] [--scale F] [--neighbors N]
//                 [--min-size PX] [--repeat N] [--dump]
//   opencv_detect --frame IMG [--repeat N] ...   time one image
//   opencv_detect --make-frame SRC OUT           write a 640x480 JPEG
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

static double cpu_ms()
{
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double iou(const cv::Rect &a, const cv::Rect &b)
{
	cv::Rect i = a & b;
	if (a.area() <= 0 || b.area() <= 0 || i.area() <= 0)
		return 0;
	double inter = (double)i.area();
	return inter / ((double)a.area() + (double)b.area() - inter);
}

// Greedy one-to-one matching: the rule of vis_match_greedy.
static int match_greedy(const std::vector<cv::Rect> &gt,
			const std::vector<cv::Rect> &det, double min_iou)
{
	struct P {
		double iou;
		int g, d;
	};
	std::vector<P> pairs;
	for (int g = 0; g < (int)gt.size(); g++)
		for (int d = 0; d < (int)det.size(); d++) {
			double v = iou(gt[g], det[d]);
			if (v >= min_iou)
				pairs.push_back({v, g, d});
		}
	std::sort(pairs.begin(), pairs.end(), [](const P &a, const P &b) {
		if (a.iou != b.iou)
			return a.iou > b.iou;
		if (a.g != b.g)
			return a.g < b.g;
		return a.d < b.d;
	});
	std::vector<char> ug(gt.size()), ud(det.size());
	int m = 0;
	for (const P &p : pairs) {
		if (ug[p.g] || ud[p.d])
			continue;
		ug[p.g] = ud[p.d] = 1;
		m++;
	}
	return m;
}

struct Tally {
	int images = 0, gt = 0, det = 0, tp = 0;
};

static void print_tally(const char *name, const Tally &t)
{
	double r = t.gt ? (double)t.tp / t.gt : 0;
	double p = t.det ? (double)t.tp / t.det : 0;
	double fp = t.images ? (double)(t.det - t.tp) / t.images : 0;
	printf("%-12s images %3d faces %3d detections %3d matched %3d  "
	       "recall %.3f precision %.3f fp/image %.2f\n",
	       name, t.images, t.gt, t.det, t.tp, r, p, fp);
}

int main(int argc, char **argv)
{
	std::string data = getenv("MOODSYNC_DATA")
				   ? std::string(getenv("MOODSYNC_DATA"))
				   : std::string("../shared/data");
	std::string cascade_path = "/usr/share/opencv4/haarcascades/"
				   "haarcascade_frontalface_default.xml";
	std::string frame;
	double scale = 1.1;
	int neighbors = 5, min_size = 30, repeat = 1, dump = 0;

	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		bool more = i + 1 < argc;
		if (a == "--make-frame" && i + 2 < argc) {
			cv::Mat src = cv::imread(argv[i + 1], cv::IMREAD_COLOR |
				cv::IMREAD_IGNORE_ORIENTATION), dst;
			if (src.empty()) {
				fprintf(stderr, "cannot read %s\n", argv[i + 1]);
				return 1;
			}
			cv::resize(src, dst, cv::Size(640, 480), 0, 0,
				   cv::INTER_AREA);
			return cv::imwrite(argv[i + 2], dst) ? 0 : 1;
		} else if (a == "--data" && more) {
			data = argv[++i];
		} else if (a == "--cascade" && more) {
			cascade_path = argv[++i];
		} else if (a == "--scale" && more) {
			scale = strtod(argv[++i], nullptr);
		} else if (a == "--neighbors" && more) {
			neighbors = (int)strtol(argv[++i], nullptr, 10);
		} else if (a == "--min-size" && more) {
			min_size = (int)strtol(argv[++i], nullptr, 10);
		} else if (a == "--repeat" && more) {
			repeat = std::max(1, (int)strtol(argv[++i], nullptr, 10));
		} else if (a == "--frame" && more) {
			frame = argv[++i];
		} else if (a == "--dump") {
			dump = 1;
		} else {
			fprintf(stderr, "opencv_detect: bad argument %s\n",
				a.c_str());
			return 2;
		}
	}
	cv::setNumThreads(1);
	cv::CascadeClassifier cc;
	if (!cc.load(cascade_path)) {
		fprintf(stderr, "opencv_detect: cannot load %s\n",
			cascade_path.c_str());
		return 1;
	}
	cv::Size minsz(min_size, min_size);
	std::vector<cv::Rect> faces;

	if (!frame.empty()) {
		cv::Mat img = cv::imread(frame, cv::IMREAD_GRAYSCALE |
				     cv::IMREAD_IGNORE_ORIENTATION);
		if (img.empty()) {
			fprintf(stderr, "cannot read %s\n", frame.c_str());
			return 1;
		}
		double best = 1e30;
		for (int r = 0; r < repeat; r++) {
			double t0 = cpu_ms();
			cc.detectMultiScale(img, faces, scale, neighbors, 0,
					    minsz);
			best = std::min(best, cpu_ms() - t0);
		}
		printf("frame %dx%d faces %zu cpu_ms %.2f\n", img.cols,
		       img.rows, faces.size(), best);
		return 0;
	}

	// annotations: path x y w h, one face per line
	std::ifstream ann(data + "/faces/annotations.txt");
	if (!ann) {
		fprintf(stderr, "opencv_detect: no %s/faces/annotations.txt\n",
			data.c_str());
		return 1;
	}
	std::vector<std::string> order;
	std::map<std::string, std::vector<cv::Rect>> gt;
	std::string line;
	while (std::getline(ann, line)) {
		std::istringstream ss(line);
		std::string path;
		cv::Rect r;
		if (!(ss >> path >> r.x >> r.y >> r.width >> r.height))
			continue;
		if (!gt.count(path))
			order.push_back(path);
		gt[path].push_back(r);
	}
	std::map<std::string, Tally> per;
	Tally all;
	double total = 0;
	for (const std::string &path : order) {
		std::string src = "?";
		size_t at = path.find("images/");
		if (at != std::string::npos) {
			size_t s = at + 7, e = path.find('/', s);
			src = path.substr(s, e == std::string::npos ? e : e - s);
		}
		cv::Mat img = cv::imread(data + "/faces/" + path,
					 cv::IMREAD_GRAYSCALE |
						 cv::IMREAD_IGNORE_ORIENTATION);
		if (img.empty()) {
			fprintf(stderr, "opencv_detect: cannot read %s\n",
				path.c_str());
			return 1;
		}
		double best = 1e30;
		for (int r = 0; r < repeat; r++) {
			double t0 = cpu_ms();
			cc.detectMultiScale(img, faces, scale, neighbors, 0,
					    minsz);
			best = std::min(best, cpu_ms() - t0);
		}
		total += best;
		if (dump) {
			printf("%s", path.c_str());
			std::vector<cv::Rect> s = faces;
			std::sort(s.begin(), s.end(), [](const cv::Rect &a,
							 const cv::Rect &b) {
				if (a.area() != b.area())
					return a.area() > b.area();
				if (a.y != b.y)
					return a.y < b.y;
				return a.x < b.x;
			});
			for (const cv::Rect &r : s)
				printf(" %d,%d,%d,%d", r.x, r.y, r.width,
				       r.height);
			printf("\n");
		}
		int tp = match_greedy(gt[path], faces, 0.4);
		for (Tally *t : {&per[src], &all}) {
			t->images++;
			t->gt += (int)gt[path].size();
			t->det += (int)faces.size();
			t->tp += tp;
		}
	}
	for (auto &kv : per)
		print_tally(kv.first.c_str(), kv.second);
	print_tally("overall", all);
	printf("photos %zu cpu_ms %.1f\n", order.size(), total);
	return 0;
}
